"""Errors a user can cause. The CLI prints them as one line, never as a traceback."""


class UserError(Exception):
    """A mistake in input, arguments or configuration that the user can fix."""


class ConfigError(UserError):
    """A configuration value is invalid (unknown name, wrong type, out of range)."""


def unknown_name_error(kind: str, name: str, valid: list[str]) -> ConfigError:
    """The one message every registry gives for a name it does not know."""
    return ConfigError(f"unknown {kind} {name!r}; valid names: {', '.join(sorted(valid))}")
