"""Storage mechanics shared by every stage that writes files: atomic writes and run locks."""
