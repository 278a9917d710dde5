"""Evidence keys as integer codes, built once per run: who holds which key in which hour.

Linking ticks then work on dense integer arrays: an (account, key) pair is one code, an
hour of traffic is the slice of pair codes seen in it, and the moving window (see
`linking.window`) keeps running counts over those codes instead of re-joining the window's
rows at every tick. Sign-up keys (card, sign-up address, sign-up burst) are held for as
long as their account is active, so they come as a separate static list.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from distillguard.linking.keys import KIND_CODE, strong_keys_sql


def renumbered(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(codes, return_inverse=True) for codes in [0, size): the distinct codes
    ascending and each one's position among them, in one pass over a mask instead of a
    sort (a tick's linked holdings are a hundred thousand codes of a run's million)."""
    present = np.zeros(size, dtype=bool)
    present[codes] = True
    distinct = np.flatnonzero(present)
    position = np.cumsum(present, dtype=np.int64) - 1
    return distinct, position[codes]


@dataclass(frozen=True)
class HourSlice:
    """The distinct (account, key) pair codes seen in one hour."""

    hour: np.datetime64
    pairs: np.ndarray


@dataclass(frozen=True)
class KeyCodes:
    """Accounts, keys and pairs as dense codes; row i of each per-code array is code i."""

    accounts: np.ndarray  # account id per account code
    key_kind: np.ndarray  # kind code (see keys.KINDS) per key code
    key_text: dict[int, str]  # "kind:value" of sign-up keys, by key code, to explain them
    pair_account: np.ndarray  # account code per pair code
    pair_key: np.ndarray  # key code per pair code
    hours: np.ndarray  # the hours with traffic keys, ascending (datetime64[us])
    offsets: np.ndarray  # hour i's pair codes are pairs[offsets[i]:offsets[i + 1]]
    pairs: np.ndarray
    strong_account: np.ndarray  # sign-up keys: holder's account code ...
    strong_key: np.ndarray  # ... and the key code
    # The 64-bit value of each traffic key code (0 for sign-up keys): codes depend on the
    # keys a run holds, values do not, so what hashes keys (scoring.content) hashes these.
    key_value: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def kind_mask(self, kinds: tuple[str, ...]) -> np.ndarray:
        """Per pair code, whether its key is of one of `kinds` (kept: the codes never change
        within a run, and a window ticks dozens of times over them)."""
        if kinds not in self._kind_masks:
            wanted = np.zeros(int(self.key_kind.max(initial=0)) + 1, dtype=bool)
            wanted[[KIND_CODE[k] for k in kinds if KIND_CODE[k] < len(wanted)]] = True
            self._kind_masks[kinds] = wanted[self.key_kind[self.pair_key]]
        return self._kind_masks[kinds]

    @functools.cached_property
    def _kind_masks(self) -> dict[tuple[str, ...], np.ndarray]:
        return {}

    def slices(self, start: np.datetime64, end: np.datetime64) -> list[HourSlice]:
        """The hour slices with start <= hour < end."""
        first, last = np.searchsorted(self.hours, [start, end])
        return [
            HourSlice(self.hours[i], self.pairs[self.offsets[i] : self.offsets[i + 1]])
            for i in range(int(first), int(last))
        ]


def _traffic(con: duckdb.DuckDBPyConnection, hour_keys: str) -> dict[str, np.ndarray]:
    """Every (hour, account, key) row of `hour_keys` as dense codes; each code's account id
    and key kind."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE account_codes AS
        SELECT account_id, (row_number() OVER (ORDER BY account_id) - 1)::BIGINT AS account
        FROM (SELECT DISTINCT account_id FROM {hour_keys})""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE key_codes AS
        SELECT kind, key, (row_number() OVER (ORDER BY kind, key) - 1)::BIGINT AS code
        FROM (SELECT DISTINCT kind, key FROM {hour_keys})""")
    # Streamed out in Arrow batches: a materialised result (fetchnumpy) must fit DuckDB's
    # memory limit whole, and a run's keys at 15M exchanges do not; the sort spills.
    coded = (
        con.sql(f"""
        SELECT timezone('UTC', h.hour) AS hour, a.account, k.code AS key
        FROM {hour_keys} h JOIN account_codes a USING (account_id)
          JOIN key_codes k USING (kind, key)
        ORDER BY h.hour""")
        .to_arrow_reader(1 << 20)
        .read_all()
    )
    rows = {name: coded[name].to_numpy() for name in coded.column_names}
    names = con.sql("SELECT account_id FROM account_codes ORDER BY account").fetchnumpy()
    kinds = con.sql("SELECT kind, key FROM key_codes ORDER BY code").fetchnumpy()
    con.execute("DROP TABLE account_codes; DROP TABLE key_codes")
    return {
        **rows,
        "names": names["account_id"].astype(str),
        "key_kind": kinds["kind"],
        "key_value": kinds["key"].astype(np.int64),
    }


def _strong(
    con: duckdb.DuckDBPyConnection, accounts: str | None, names: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(account code, "kind:value") of the sign-up keys of the accounts in `names`."""
    if accounts is None or len(names) == 0:
        return np.zeros(0, np.int64), np.zeros(0, str)
    con.register("coded_accounts", pa.table({"account_id": pa.array(names, pa.string())}))
    try:
        rows = con.sql(strong_keys_sql(accounts, "coded_accounts")).fetchnumpy()
    finally:
        con.unregister("coded_accounts")
    holder = np.searchsorted(names, rows["account_id"].astype(str))
    return holder.astype(np.int64), rows["key"].astype(str)


def key_codes(con: duckdb.DuckDBPyConnection, hour_keys: str, accounts: str | None) -> KeyCodes:
    """Codes for the traffic keys in `hour_keys` (see keys.hour_keys_sql) and, when an
    accounts table is given, the sign-up keys of the accounts that appear there."""
    rows = _traffic(con, hour_keys)
    names, n_keys = rows["names"], len(rows["key_kind"])
    stride = max(n_keys, 1)
    pair_codes, pair = np.unique(
        rows["account"].astype(np.int64) * stride + rows["key"].astype(np.int64),
        return_inverse=True,
    )
    hours = rows["hour"].astype("datetime64[us]")
    starts = np.flatnonzero(np.r_[len(hours) > 0, hours[1:] != hours[:-1]])
    holder, text = _strong(con, accounts, names)
    strong_keys, strong_key = np.unique(text, return_inverse=True)
    strong_kind = [KIND_CODE[k.split(":", 1)[0]] for k in strong_keys.tolist()]
    return KeyCodes(
        accounts=names,
        key_kind=np.concatenate([rows["key_kind"], strong_kind]).astype(np.uint8),
        key_text={n_keys + i: k for i, k in enumerate(strong_keys.tolist())},
        pair_account=pair_codes // stride,
        pair_key=pair_codes % stride,
        hours=hours[starts],
        offsets=np.r_[starts, len(hours)],
        pairs=pair.reshape(-1),
        strong_account=holder,
        strong_key=n_keys + strong_key.reshape(-1),
        key_value=np.concatenate([rows["key_value"], np.zeros(len(strong_keys), np.int64)]),
    )
