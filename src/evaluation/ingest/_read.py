"""Read band exports (CSV / Parquet) into the minutes contract, with a quarantine and row accounting.

Validation is plain pandas/pyarrow rather than pandera: the checks are a
handful of column/type rules, pandera would be a heavy extra dependency, and
the messages must name file, row, column, expected and found value, which is
easy to do directly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal, Mapping

import numpy as np
import pandas as pd

from ._pseudonym import load_key, pseudonymise

TZ = "Asia/Seoul"
CONTRACT = ("participant_id", "ts", "steps", "heart_rate")
OPTIONAL = ("heart_rate",)
REASONS = {
    "missing_participant": "participant id is empty",
    "unparseable_ts": "timestamp cannot be parsed (or does not exist in the source time zone)",
    "unparseable_steps": "steps is not a number",
    "non_integer_steps": "steps is not a whole number",
    "unparseable_heart_rate": "heart rate is not a number",
    "unknown_participant": "participant is not in the enrolment list",
    "out_of_period": "local date outside the requested period",
}
"""Quarantine reason codes and their meaning (first failing check wins, in this order)."""
EXPECTED = {
    "missing_participant": "a participant id",
    "unparseable_ts": "an ISO date-time (naive local, UTC 'Z' or with an offset) that exists in the source zone",
    "unparseable_steps": "an integer step count",
    "non_integer_steps": "an integer step count",
    "unparseable_heart_rate": "a heart rate in bpm or an empty cell",
    "unknown_participant": "an enrolled participant",
    "out_of_period": "a local date inside the period",
}
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


class SchemaError(ValueError):
    """A file does not match the expected schema; names file, row, column, expected and found."""

    def __init__(self, file: str, row: int | None, column: str, expected: str, found: str):
        self.file, self.row, self.column, self.expected, self.found = file, row, column, expected, found
        where = f"{file}" + (f", row {row}" if row is not None else "")
        super().__init__(f"{where}, column {column!r}: expected {expected}, found {found}")


@dataclass
class RowAccounting:
    """Rows read, kept and quarantined (by reason and by file); ``rows_in == rows_kept + rows_quarantined``."""

    rows_in: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    by_file: dict[str, dict[str, int]] = field(default_factory=dict)

    def check(self) -> "RowAccounting":
        assert self.rows_in == self.rows_kept + self.rows_quarantined, (
            f"row accounting broken: {self.rows_in} in != {self.rows_kept} kept + {self.rows_quarantined} quarantined"
        )
        assert sum(self.by_reason.values()) == self.rows_quarantined
        return self

    def add(self, file: str, rows_in: int, reasons: pd.Series) -> None:
        counts = reasons.value_counts().to_dict()
        q = int(sum(counts.values()))
        self.rows_in += rows_in
        self.rows_quarantined += q
        self.rows_kept += rows_in - q
        for k, v in counts.items():
            self.by_reason[k] = self.by_reason.get(k, 0) + int(v)
        self.by_file[file] = {"rows_in": rows_in, "rows_kept": rows_in - q, "rows_quarantined": q}

    def summary(self) -> pd.DataFrame:
        """Tidy table: one row per reason (plus ``kept``), with counts and shares of rows in."""
        rows = [("kept", self.rows_kept)] + sorted(self.by_reason.items())
        df = pd.DataFrame(rows, columns=["outcome", "rows"])
        df["share"] = df["rows"] / self.rows_in if self.rows_in else np.nan
        return df


@dataclass
class IngestResult:
    """``minutes`` (the contract), ``quarantine`` (rejected rows with reasons), ``accounting``."""

    minutes: pd.DataFrame
    quarantine: pd.DataFrame
    accounting: RowAccounting
    quarantine_path: Path | None = None

    def summary(self) -> pd.DataFrame:
        return self.accounting.summary()


def _read_file(path: Path, columns: Mapping[str, str]) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        df = pd.read_parquet(path)
    elif name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    else:
        raise SchemaError(str(path), None, "<file>", "a .csv, .csv.gz or .parquet file", f"suffix {path.suffix!r}")
    df = df.rename(columns=dict(columns))
    for col in CONTRACT:
        if col not in df.columns and col not in OPTIONAL:
            src = [k for k, v in columns.items() if v == col]
            raise SchemaError(
                str(path), None, src[0] if src else col, f"a column {col!r}" + (f" (mapped from {src[0]!r})" if src else ""),
                f"columns {list(df.columns)}",
            )
    if "heart_rate" not in df.columns:
        df["heart_rate"] = np.nan  # step-only device
    return df[list(CONTRACT)]


def _parse_ts(col: pd.Series, source_tz: str) -> pd.Series:
    """Timezone-aware Asia/Seoul times; NaT where unparseable.

    Naive values are wall-clock times in ``source_tz``; values with ``Z`` or an
    offset are instants; tz-aware Parquet columns are converted.
    """
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return col.dt.tz_convert(TZ)
    if col.dtype.kind == "M":
        return col.dt.tz_localize(source_tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(TZ)
    s = col.astype("string").str.strip()
    aware = s.str.contains(_OFFSET, na=False).to_numpy(bool)
    out = pd.Series(pd.NaT, index=col.index, dtype=f"datetime64[ns, {TZ}]")
    if (~aware).any():
        naive = pd.to_datetime(s[~aware], errors="coerce", format="ISO8601")
        if isinstance(naive.dtype, pd.DatetimeTZDtype):  # pragma: no cover - guarded by the regex
            naive = naive.dt.tz_localize(None)
        out[~aware] = naive.dt.tz_localize(source_tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(TZ)
    if aware.any():
        out[aware] = pd.to_datetime(s[aware], errors="coerce", utc=True, format="ISO8601").dt.tz_convert(TZ)
    return out


def read_exports(
    paths: str | Path | Iterable[str | Path],
    *,
    columns: Mapping[str, str] | None = None,
    source_tz: str = TZ,
    participants: Iterable[str] | None = None,
    period: tuple[str, str] | None = None,
    key: str | bytes | None = None,
    key_file: str | Path | None = None,
    demo: bool = False,
    pseudonymise_ids: bool = True,
    quarantine_dir: str | Path | None = None,
    on_error: Literal["quarantine", "raise"] = "quarantine",
) -> IngestResult:
    """Read band exports into minutes (``participant_id``, ``ts`` Asia/Seoul, ``steps``, ``heart_rate``).

    Parameters
    ----------
    paths: files or folders (folders are searched for .csv/.csv.gz/.parquet, sorted).
    columns: mapping from the export's column names to the contract names,
        e.g. ``{"Id": "participant_id", "ActivityMinute": "ts", "Steps": "steps", "HR": "heart_rate"}``.
        ``heart_rate`` may be absent (step-only devices: all NaN).
    source_tz: zone of naive timestamps ("Asia/Seoul" = local; "UTC" for exports
        written in UTC without a marker). Values with ``Z``/``+hh:mm`` are instants.
    participants: enrolled pseudonymised ids; rows of anyone else are quarantined.
    period: (first, last) local dates kept, inclusive; others quarantined.
    key, key_file, demo: HMAC key for pseudonyms (see :func:`load_key`); without a key
        the call is refused unless ``demo=True``.
    pseudonymise_ids: False keeps ids as they are; only allowed with ``demo=True``
        (synthetic data whose ids are already pseudonyms).
    quarantine_dir: where ``quarantine.parquet`` is written (rows with reason codes,
        file name and row number; ids pseudonymised, never raw).
    on_error: "raise" turns the first bad row into a :class:`SchemaError`.

    Steps become ``Int32`` (nullable: an empty cell is no record), heart rate
    ``float32`` (NaN = no reading). Row order is kept, files in the given order.
    """
    if not pseudonymise_ids and not demo:
        raise ValueError("pseudonymise_ids=False is only allowed with demo=True (ids that are already pseudonyms)")
    hkey = load_key(key, key_file, demo=demo) if pseudonymise_ids else None
    files = _expand(paths)
    mapping = dict(columns or {})
    known = set(participants) if participants is not None else None
    lo = hi = None
    if period is not None:
        lo, hi = pd.Timestamp(period[0]).normalize(), pd.Timestamp(period[1]).normalize()
    acc = RowAccounting()
    kept_parts, q_parts = [], []
    for path in files:
        raw = _read_file(path, mapping)
        n = len(raw)
        reason = pd.Series(pd.NA, index=raw.index, dtype="string")
        bad_col = pd.Series(pd.NA, index=raw.index, dtype="string")

        def mark(mask, code: str, column: str) -> None:
            mask = pd.Series(np.asarray(mask, bool), index=raw.index) & reason.isna()
            if mask.any():
                if on_error == "raise":
                    i = int(np.flatnonzero(mask.to_numpy())[0])
                    raise SchemaError(str(path), i + 1, column, EXPECTED[code], repr(raw[column].iloc[i]))
                reason[mask] = code
                bad_col[mask] = column

        pid_raw = raw["participant_id"]
        mark(pid_raw.isna() | (pid_raw.astype("string").str.strip() == ""), "missing_participant", "participant_id")
        ts = _parse_ts(raw["ts"], source_tz)
        mark(ts.isna(), "unparseable_ts", "ts")
        steps = pd.to_numeric(raw["steps"], errors="coerce")
        mark(steps.isna() & raw["steps"].notna(), "unparseable_steps", "steps")
        mark(steps.notna() & (steps != np.round(steps)), "non_integer_steps", "steps")
        hr = pd.to_numeric(raw["heart_rate"], errors="coerce")
        mark(hr.isna() & raw["heart_rate"].notna(), "unparseable_heart_rate", "heart_rate")
        ids = pseudonymise(pid_raw, hkey) if hkey is not None else pid_raw.astype("string").to_numpy(dtype=object)
        if known is not None:
            mark(~pd.Series(ids, index=raw.index).isin(known), "unknown_participant", "participant_id")
        if lo is not None:
            local = ts.dt.tz_localize(None).dt.normalize()
            mark(ts.notna() & ((local < lo) | (local > hi)), "out_of_period", "ts")
        bad = reason.notna().to_numpy()
        acc.add(str(path), n, reason[bad])
        if bad.any():
            q = raw[bad].astype("string").assign(participant_id=pd.Series(ids, index=raw.index)[bad].astype("string"))
            q.insert(0, "row", np.flatnonzero(bad) + 1)
            q.insert(0, "file", str(path))
            q["reason"] = reason[bad]
            q["column"] = bad_col[bad]
            q_parts.append(q)
        ok = ~bad
        kept_parts.append(pd.DataFrame({
            "participant_id": ids[ok],
            "ts": ts[ok].reset_index(drop=True),
            "steps": steps[ok].reset_index(drop=True).astype("Int32"),
            "heart_rate": hr[ok].reset_index(drop=True).astype("float32"),
        }))
    acc.check()
    minutes = pd.concat(kept_parts, ignore_index=True) if kept_parts else _empty_minutes()
    minutes["participant_id"] = pd.Categorical(minutes["participant_id"].astype(object))
    if not minutes["steps"].isna().any():
        minutes["steps"] = minutes["steps"].astype(np.int32)
    quarantine = pd.concat(q_parts, ignore_index=True) if q_parts else pd.DataFrame(
        columns=["file", "row", *CONTRACT, "reason", "column"], dtype="string")
    qpath = None
    if quarantine_dir is not None:
        qpath = Path(quarantine_dir) / "quarantine.parquet"
        qpath.parent.mkdir(parents=True, exist_ok=True)
        quarantine.to_parquet(qpath, index=False)
    return IngestResult(minutes, quarantine, acc, qpath)


def _empty_minutes() -> pd.DataFrame:
    return pd.DataFrame({
        "participant_id": pd.Series([], dtype=object), "ts": pd.Series([], dtype=f"datetime64[ns, {TZ}]"),
        "steps": pd.Series([], dtype="Int32"), "heart_rate": pd.Series([], dtype="float32"),
    })


def _expand(paths) -> list[Path]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.name.lower().endswith((".csv", ".csv.gz", ".parquet")))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"band export {p} does not exist")
    return out
