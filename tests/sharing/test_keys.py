from __future__ import annotations

import stat
from pathlib import Path

import pytest

from distillguard.errors import UserError
from distillguard.provenance.key import WatermarkKey
from distillguard.sharing import keys


def test_keyed_values_depend_on_key_kind_and_value() -> None:
    a, b = keys.generate(), keys.generate()
    assert a.keyed("client", "x") == a.keyed("client", "x")
    assert a.keyed("client", "x") != b.keyed("client", "x")
    assert a.keyed("client", "x") != a.keyed("payment", "x")
    assert a.keyed("client", "x") != a.keyed("client", "y")
    assert a.keyed_many("client", ["x", "y"]) == [a.keyed("client", "x"), a.keyed("client", "y")]


def test_repr_hides_the_secret() -> None:
    key = keys.generate()
    assert key.secret.hex() not in repr(key)
    assert key.key_id in repr(key)


def test_save_load_round_trip_owner_only(tmp_path: Path) -> None:
    key = keys.generate()
    path = tmp_path / "k.json"
    keys.save(key, path)
    assert keys.load(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(UserError, match="never overwritten"):
        keys.save(keys.generate(), path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a distillguard community key"),
        ('{"secret": "AAAA"}', "must be 32 bytes"),
        ('{"secret": "' + "A" * 43 + '=", "key_id": "0"}', "damaged"),
    ],
)
def test_bad_key_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "k.json"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        keys.load(path)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        keys.load(tmp_path / "none.json")


def test_a_provenance_key_is_named_as_one(tmp_path: Path) -> None:
    """Its secret is 32 bytes too: the error was "the key must be 32 bytes"."""
    path = tmp_path / "prov.key"
    WatermarkKey.generate(seed=1).save(path)
    with pytest.raises(UserError, match="it is a distillguard-provenance-key; make one"):
        keys.load(path)


@pytest.mark.parametrize(("mode", "warned"), [(0o600, False), (0o640, True), (0o644, True)])
def test_a_key_others_may_read_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: int, warned: bool
) -> None:
    community, provenance = tmp_path / "community.key", tmp_path / "prov.key"
    keys.save(keys.generate(), community)
    WatermarkKey.generate(seed=1).save(provenance)
    for path in (community, provenance):
        path.chmod(mode)
    keys.load(community)
    WatermarkKey.load(provenance)
    err = capsys.readouterr().err
    assert (f"chmod 600 {community}" in err and f"chmod 600 {provenance}" in err) == warned
    assert (f"(mode {mode:04o})" in err) == warned and err.count("\n") == 2 * warned
