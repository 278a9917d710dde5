"""`distillguard console` and `console add-user`: users, and one-line errors."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from distillguard.cli.console_cmd import check_tls, demo_console_hint
from distillguard.cli.main import main
from distillguard.console.users import UserStore
from distillguard.detect.summary import DetectSummary
from distillguard.errors import UserError


def test_add_user_reads_the_password_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "verdicts.jsonl"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["console", "add-user", "alice", "--role", "viewer", "--state", str(state)]) == 0
    users = UserStore(tmp_path / "console" / "users.json")
    assert users.verify("alice", "a long password") == users.get("alice")
    assert users.verify("alice", "wrong") is None
    assert "a long password" not in (tmp_path / "console" / "users.json").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["console", "add-user", "bob", "--role", "king", "--state", "s.jsonl"], "invalid choice"),
        (
            ["console", "add-user", "bob", "--role", "viewer", "--state", "redis://h:6379/0"],
            "--home",
        ),
        (  # the console's decisions would reach no gateway
            ["console", "add-user", "bob", "--role", "viewer", "--state", "memory", "--home", "h"],
            "no gateway would read what the console decides",
        ),
        (["console", "--findings", ".", "--state", "memory"], "--state memory is this process"),
        (["console", "--state", "s.jsonl"], "--findings"),
        (["console", "--findings", "."], "--state is required"),
    ],
)
def test_mistakes_are_one_line(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_console_without_users_says_how_to_add_one(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "verdicts.jsonl")
    assert main(["console", "--findings", str(tiny_detect.out), "--state", state]) == 2
    assert "console add-user" in capsys.readouterr().err
    # a store of no file of its own needs --home: the command the hint names must work
    home = tmp_path / "home"
    redis = "redis://127.0.0.1:6379/0"  # not reached: the users are checked first
    argv = ["--findings", str(tiny_detect.out), "--state", redis, "--home", str(home)]
    assert main(["console", *argv]) == 2
    hint = capsys.readouterr().err.split("run '", 1)[1].split("' first")[0]
    assert hint.endswith(f"--home {home}")


def test_a_console_without_users_creates_nothing(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped --state left a verdict file, an allowlist and a case store behind."""
    state = tmp_path / "typo" / "verdicts.jsonl"
    assert main(["console", "--findings", str(tiny_detect.out), "--state", str(state)]) == 2
    assert f"its folder {tmp_path / 'typo'} does not exist (a typo?)" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()
    (tmp_path / "typo").mkdir()  # a folder that is there, and no users yet
    assert main(["console", "--findings", str(tiny_detect.out), "--state", str(state)]) == 2
    assert "no console users yet" in capsys.readouterr().err
    assert list((tmp_path / "typo").iterdir()) == []


def test_findings_and_lake_are_checked_before_serving(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "verdicts.jsonl")
    copy = tmp_path / "tables-only"
    copy.mkdir()
    for f in tiny_detect.out.glob("*.*"):
        (copy / f.name).write_bytes(f.read_bytes())
    for findings, extra, message in [
        (copy, [], "has no signals/ (the case pages read them)"),
        (tiny_detect.out, ["--lake", str(tmp_path / "nope")], "--lake: no lake at"),
    ]:
        assert main(["console", "--findings", str(findings), "--state", state, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


def test_add_user_with_nothing_on_stdin_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    argv = ["console", "add-user", "bob", "--role", "viewer", "--state", str(tmp_path / "s")]
    assert main(argv) == 2
    assert "no password on standard input" in capsys.readouterr().err


def test_a_second_console_on_the_same_home_says_so(tmp_path: Path) -> None:
    """DuckDB's lock message named a PID and a file; the console names the cause."""
    from distillguard.console.casestore import CaseStore

    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print(flush=True); time.sleep(60)", str(tmp_path / "cases.duckdb")],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline()
        with pytest.raises(UserError, match="another console is running over"):
            CaseStore(tmp_path / "cases.duckdb")
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_short_passwords_are_refused(tmp_path: Path) -> None:
    from distillguard.errors import UserError

    with pytest.raises(UserError, match="8 characters"):
        UserStore(tmp_path / "users.json").add("alice", "viewer", "short")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key, made here (no download, no openssl binary)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("good", None),
        ("no cert", "--tls-cert"),
        ("no key", "--tls-key"),
        ("not pem", "are not a PEM certificate and its private key"),
    ],
)
def test_tls_files_are_checked_before_serving(
    tmp_path: Path, case: str, message: str | None
) -> None:
    cert, key = _self_signed(tmp_path)
    if case == "no cert":
        cert = tmp_path / "missing.pem"
    elif case == "no key":
        key = tmp_path / "missing.pem"
    elif case == "not pem":
        key.write_text("not a key\n")
    if message is None:
        check_tls(cert, key)
        return
    with pytest.raises(UserError, match=message) as raised:
        check_tls(cert, key)
    assert "\n" not in str(raised.value)


def test_the_demos_hint_leads_to_a_publish_that_runs(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's next steps never said how verdicts reach a gateway, and the publish with
    the console's allowlist failed until a console had started once."""
    out = tmp_path / "demo"
    shutil.copytree(tiny_detect.out, out / "detect")
    hint = demo_console_hint(out)
    publish = hint.rsplit("\n", 1)[1].split()
    assert publish[:3] == ["distillguard", "verdicts", "publish"]
    assert main(publish[1:]) == 0
    assert "published" in capsys.readouterr().out
