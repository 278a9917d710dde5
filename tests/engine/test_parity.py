"""Every engine gives the same answers: the same lake through DuckDB and Spark (local mode).

Spark runs from the pyspark package on this machine's Java; the first test pays for the
JVM's start (about half a minute on two cores).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from distillguard.detect.run import detect
from distillguard.detect.summary import DetectSummary
from distillguard.engine.base import ENGINES, Engine, get_engine
from distillguard.engine.duckdb_engine import DuckDBEngine
from distillguard.errors import ConfigError, UserError
from distillguard.ingest.lake import Lake
from distillguard.ingest.remote import LakeLike, RemoteLake
from distillguard.store.duck import connect_utc
from tests.detect.conftest import tiny_detect, tiny_lake, tiny_sim

__all__ = ["tiny_detect", "tiny_lake", "tiny_sim"]


@pytest.fixture(scope="module")
def engines() -> Iterator[dict[str, Engine]]:
    made = {name: get_engine(name) for name in ENGINES}
    yield made
    for engine in made.values():
        engine.close()


@pytest.fixture(scope="module")
def spark_detect(
    engines: dict[str, Engine], tiny_lake: Path, tmp_path_factory: pytest.TempPathFactory
) -> DetectSummary:
    """A fresh engine on the same session: nothing cached from the other tests' signals.
    The lake is named by its file:// URI, so Spark reads it as it reads hdfs:// or s3a://:
    through Hadoop's filesystems, its accounts table brought to the driver by Spark."""
    engine = get_engine("spark")
    lake = RemoteLake(tiny_lake.resolve().as_uri())
    try:
        return detect(lake, tmp_path_factory.mktemp("spark"), engine=engine)
    finally:
        engine.close()


def test_every_engine_keeps_the_contract(engines: dict[str, Engine]) -> None:
    for name, engine in engines.items():
        assert isinstance(engine, Engine)
        assert engine.name == name


def test_an_unknown_engine_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="duckdb, spark"):
        get_engine("flink")


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in keys])


def _aggregates(
    engine: Engine, signals: Path, hours: tuple[np.datetime64, np.datetime64]
) -> tuple[pa.Table, pa.Table, str | None]:
    with connect_utc() as con:
        engine.attach(con, signals)
        new_model = engine.hourly(con, signals, 24)
        hourly = con.sql("SELECT * FROM hourly").to_arrow_table()
        ((days,),) = con.sql(
            "SELECT list(DISTINCT epoch_us(date_trunc('day', hour))) FROM hourly"
        ).fetchall()
        midnights = np.sort(np.asarray(days, dtype=np.int64)).astype("datetime64[us]")
        engine.hour_keys(con, signals, hours, midnights)
        keys = con.sql("SELECT * FROM hour_keys").to_arrow_table()
    return (
        _sorted(hourly, ["account_id", "hour"]),
        _sorted(keys, ["account_id", "hour", "kind", "key"]),
        new_model,
    )


def test_hourly_partials_and_keys_are_the_same(
    engines: dict[str, Engine], tiny_detect: DetectSummary
) -> None:
    signals = tiny_detect.out / "signals"
    hours = (np.datetime64("2020-01-01T00", "us"), np.datetime64("2030-01-01T00", "us"))
    duck = _aggregates(engines["duckdb"], signals, hours)
    spark = _aggregates(engines["spark"], signals, hours)
    assert duck[2] == spark[2]
    assert duck[1].num_rows > 0 and duck[1].equals(spark[1].cast(duck[1].schema))
    assert duck[0].num_rows == spark[0].num_rows > 0
    for name in duck[0].column_names:
        left, right = duck[0][name].to_numpy(), spark[0][name].to_numpy()
        if left.dtype.kind == "f":
            np.testing.assert_allclose(left, right, rtol=1e-9, atol=1e-9, err_msg=name)
        else:
            assert (left == right).all(), name


def test_signals_are_the_same(engines: dict[str, Engine], tiny_lake: Path, tmp_path: Path) -> None:
    """In folders whose names hold a space: Spark was given them percent-encoded, which
    Hadoop reads as the characters %20."""
    lake = Lake(shutil.copytree(tiny_lake, tmp_path / "my lake"))
    out = tmp_path / "signals out"
    rows = {n: e.signals(lake, out / n) for n, e in engines.items()}
    assert rows["duckdb"] == rows["spark"] > 0
    read = "SELECT * FROM read_parquet('{}/*.parquet') ORDER BY request_id"
    with connect_utc() as con:
        duck = con.sql(read.format(out / "duckdb")).to_arrow_table()
        spark = con.sql(read.format(out / "spark")).to_arrow_table()
    assert duck.equals(spark.cast(duck.schema))


def test_a_lake_of_accounts_alone_has_no_signals_on_either_engine(
    engines: dict[str, Engine], tiny_lake: Path, tmp_path: Path
) -> None:
    """A lake ingested with --accounts and no log yet: DuckDB counted 0 exchanges where
    Spark failed on the missing exchanges folder, locally and by URI."""
    lake = tmp_path / "accounts-only"
    shutil.copytree(tiny_lake / "accounts", lake / "accounts")
    runs: dict[str, tuple[Engine, LakeLike]] = {n: (e, Lake(lake)) for n, e in engines.items()}
    runs["spark-uri"] = (engines["spark"], RemoteLake(lake.as_uri()))
    with connect_utc() as con:
        for name, (engine, where) in runs.items():
            assert engine.signals(where, tmp_path / name) == 0, name
            read = f"SELECT * FROM read_parquet('{tmp_path / name}/*.parquet')"
            assert con.sql(read).to_arrow_table().num_rows == 0, name
        columns = {n: con.sql(f"DESCRIBE SELECT * FROM read_parquet('{tmp_path / n}/*.parquet')")
                   .fetchall() for n in runs}  # fmt: skip
    assert columns["duckdb"] == columns["spark"] == columns["spark-uri"]


def test_detect_gives_the_same_results(
    tiny_detect: DetectSummary, spark_detect: DetectSummary
) -> None:
    duck = {a.account_id: a for a in tiny_detect.accounts}
    spark = {a.account_id: a for a in spark_detect.accounts}
    assert duck.keys() == spark.keys()
    assert sum(a.flagged for a in duck.values()) > 0
    for account, a in duck.items():
        b = spark[account]
        assert (a.flagged, a.review, a.cluster_id, a.flagged_by) == (
            b.flagged,
            b.review,
            b.cluster_id,
            b.flagged_by,
        ), account
        assert (a.first_flagged_at, a.first_review_at) == (b.first_flagged_at, b.first_review_at)
        assert abs(a.score - b.score) <= 1e-6
    clusters = {c.cluster_id: c for c in tiny_detect.clusters}
    assert clusters.keys() == {c.cluster_id for c in spark_detect.clusters}
    for c in spark_detect.clusters:
        assert c.accounts == clusters[c.cluster_id].accounts
        assert c.first_flagged_at == clusters[c.cluster_id].first_flagged_at
        assert abs(c.score - clusters[c.cluster_id].score) <= 1e-6


def test_the_default_engine_is_duckdb(tiny_detect: DetectSummary) -> None:
    assert isinstance(DuckDBEngine(), Engine)


def test_a_bad_spark_conf_is_one_line(
    tiny_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from distillguard.cli.main import main

    argv = ["detect", str(tiny_lake), "--out", str(tmp_path), "--engine", "spark"]
    assert main([*argv, "--spark-conf", "no-equals-sign"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_the_accounts_table_of_a_uri_lake_is_read_through_spark(
    engines: dict[str, Engine], tiny_lake: Path, tmp_path: Path
) -> None:
    local = engines["duckdb"].accounts(Lake(tiny_lake), tmp_path / "unused.parquet")
    remote = engines["spark"].accounts(RemoteLake(tiny_lake.as_uri()), tmp_path / "a.parquet")
    assert local is not None and remote == tmp_path / "a.parquet"
    with connect_utc() as con:
        read = "SELECT * FROM read_parquet('{}') ORDER BY account_id"
        duck = con.sql(read.format(local)).to_arrow_table()
        spark = con.sql(read.format(remote)).to_arrow_table()
    assert duck.num_rows > 0 and duck.equals(spark.cast(duck.schema))
    empty = tmp_path / "no-accounts"
    (empty / "exchanges").mkdir(parents=True)
    assert engines["spark"].accounts(RemoteLake(empty.as_uri()), tmp_path / "b.parquet") is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["hdfs://namenode:8020/lake"], "needs --engine spark"),
        (["s3a://bucket/lake", "more.jsonl"], "a lake URI must be the only PATH"),
        (["hdfs://nowhere.invalid:1/lake", "--engine", "spark"], "Spark cannot read"),
    ],
)
def test_lake_uris_that_cannot_be_read_are_one_line_errors(
    engines: dict[str, Engine],
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from distillguard.cli.main import main

    assert main(["detect", *argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


@pytest.mark.parametrize(
    ("uri", "local"),
    [
        ("file:///data/lake", Path("/data/lake")),
        ("file://localhost/data/my%20lake", Path("/data/my lake")),
        ("file://otherhost/data/lake", None),
        ("hdfs://namenode:8020/lake", None),
        ("s3a://bucket/lake/", None),
    ],
)
def test_only_local_file_uris_are_local_paths(uri: str, local: Path | None) -> None:
    found = RemoteLake(uri).local()
    assert (found.root if found else None) == local
    assert RemoteLake(uri).exchanges_uri == uri.rstrip("/") + "/exchanges"


def test_signals_too_large_for_memory_stay_on_disk_with_the_same_results(
    tiny_detect: DetectSummary,
    tiny_lake: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from distillguard.engine import duckdb_engine

    monkeypatch.setattr(duckdb_engine, "IN_MEMORY_SIGNALS_BYTES", 0)
    with connect_utc() as con:
        DuckDBEngine().attach(con, tiny_detect.out / "signals")
        views = con.sql("SELECT view_name FROM duckdb_views() WHERE temporary").fetchall()
    assert ("signals",) in views
    on_disk = detect([tiny_lake], tmp_path / "out")
    held = {a.account_id: a for a in tiny_detect.accounts}
    assert {a.account_id for a in on_disk.accounts} == held.keys()
    for a in on_disk.accounts:
        b = held[a.account_id]
        assert (a.flagged, a.review, a.cluster_id, a.first_flagged_at) == (
            b.flagged,
            b.review,
            b.cluster_id,
            b.first_flagged_at,
        )
        assert a.score == b.score


def test_a_part_damaged_mid_file_is_one_line_on_spark(
    engines: dict[str, Engine], tiny_lake: Path, tmp_path: Path
) -> None:
    """Its footer whole, the part passes the lake's checks and fails inside Spark's job:
    that was a Py4JJavaError traceback of a thousand lines."""
    lake = Lake(shutil.copytree(tiny_lake, tmp_path / "lake"))
    part = max(lake.exchange_files(), key=lambda p: p.stat().st_size)
    data = bytearray(part.read_bytes())
    third = len(data) // 3
    data[third : third + 4000] = bytes(len(data[third : third + 4000]))
    part.write_bytes(bytes(data))
    with pytest.raises(UserError, match="Spark cannot read"):
        engines["spark"].signals(lake, tmp_path / "signals")
