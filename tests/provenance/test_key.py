from __future__ import annotations

import stat
from collections import Counter
from pathlib import Path

import pytest

from distillguard.errors import UserError
from distillguard.provenance.groups import default_groups
from distillguard.provenance.key import WatermarkKey


@pytest.mark.parametrize("existing", [None, 0o644])
def test_save_and_load_round_trip_owner_only(tmp_path: Path, existing: int | None) -> None:
    """Owner-only whether the file is new or replaced (keygen --force over a file that
    others could read kept its mode: open's mode applies only to a file it creates)."""
    key = WatermarkKey.generate()
    path = tmp_path / "k.json"
    if existing is not None:
        path.write_text("old")
        path.chmod(existing)
    key.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert WatermarkKey.load(path) == key


def test_a_key_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    key = WatermarkKey.generate(seed=4)
    key.save(tmp_path / "k.json")
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "k.json").read_bytes())
    assert WatermarkKey.load(tmp_path / "bom.json") == key


def test_repr_never_shows_the_secret() -> None:
    key = WatermarkKey.generate(seed=3)
    assert key.secret.hex() not in repr(key)
    assert key.key_id in repr(key)


def test_seeded_keys_repeat_and_differ() -> None:
    assert WatermarkKey.generate(seed=1) == WatermarkKey.generate(seed=1)
    assert WatermarkKey.generate(seed=1) != WatermarkKey.generate(seed=2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("not json", "not a distillguard provenance key"),
        (b"\xa3\x9f raw random bytes", "not a distillguard provenance key \\(make one"),
        ('{"kind": "distillguard-provenance-key", "version": 99}', "another version"),
        (  # a secret pasted into the version field is not echoed
            '{"kind": "distillguard-provenance-key", "version": "' + "ab" * 32 + '"}',
            "another version; this distillguard reads version 1$",
        ),
        ('{"kind": ' + "9" * 5000 + "}", "not a distillguard provenance key"),  # too long
        ('{"kind": "other"}', "not a distillguard provenance key"),
        ('{"kind": "distillguard-provenance-key", "secret": "zz"}', "not hex"),
        ('{"kind": "distillguard-provenance-key", "secret": "abcd"}', "32 bytes"),
    ],
)
def test_bad_key_files_are_user_errors(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "k.json"
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UserError, match=message) as caught:
        WatermarkKey.load(path)
    assert "0xa3" not in str(caught.value)  # never a byte of what may be a secret
    assert "abab" not in str(caught.value)


def test_choices_follow_the_members_natural_shares() -> None:
    group, _ = default_groups().lookup("big") or pytest.fail("big is a group member")
    key = WatermarkKey.generate(seed=5)
    picks = Counter(key.choose(group, f"context{i}") for i in range(4000))
    for member, share in enumerate(group.shares):
        assert abs(picks[member] / 4000 - share) < 0.03
