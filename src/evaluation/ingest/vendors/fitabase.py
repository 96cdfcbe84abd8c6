"""Fitabase research exports (Fitbit devices, many participants per file) -> minutes.

* ``minuteStepsNarrow``: ``Id, ActivityMinute, Steps`` (optionally ``HR_mean`` already per minute);
* ``heartrate_seconds``: ``Id, Time, Value`` samples every 5-15 s -> minute mean.

Times are naive local wall clock (``4/12/2016 12:00:00 AM`` as Fitabase writes them, or ISO
``2016-04-12 00:00:00``) in ``source_tz``. The ``Id`` column is the participant id. A minute written
twice for the same Id keeps its first row (``duplicate_record``).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ._common import (
    MINUTE_NS, VendorFileError, VendorFrame, assemble, count_reasons, localize, minute_heart_rate, reason_notes,
    read_text,
)

LABEL = "fitabase:Fitbit"
_US_FMT = "%m/%d/%Y %I:%M:%S %p"


def _parse_times(raw: pd.Series) -> pd.Series:
    sample = raw.dropna()
    first = str(sample.iloc[0]) if len(sample) else ""
    if first.endswith(("AM", "PM")):
        return pd.to_datetime(raw, format=_US_FMT, errors="coerce")
    return pd.to_datetime(raw, format="ISO8601", errors="coerce")


def _read_table(path: Path) -> tuple["pa.Table", list[int]]:
    """All columns as text, via pyarrow (keeps NUL bytes that pandas' C parser cuts ids at); rows with
    the wrong number of fields are skipped and their line numbers returned. Arrow's own messages
    quote the row, so they are never passed on (the row holds a participant id)."""
    import pyarrow as pa
    from pyarrow import csv

    # decoded here (UTF-8 with or without BOM, then CP949), so the error names the line, and Arrow
    # sees clean UTF-8 (its row callback fails on undecodable row text)
    text = read_text(path)
    if not text.strip():
        raise VendorFileError(path, "line 1", "file is empty")
    names = [c.strip().strip('"') for c in text.split("\n", 1)[0].rstrip("\r").split(",")]
    if len(set(names)) != len(names):
        raise VendorFileError(path, "line 1", "header repeats a column name")
    skipped: list[int] = []

    def invalid(row) -> str:
        skipped.append(int(row.number) if row.number is not None else -1)
        return "skip"

    try:
        table = csv.read_csv(
            io.BytesIO(text.encode("utf-8")), read_options=csv.ReadOptions(use_threads=False),
            parse_options=csv.ParseOptions(invalid_row_handler=invalid),
            convert_options=csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                               strings_can_be_null=True, null_values=[""]))
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        raise VendorFileError(path, None, f"CSV cannot be parsed ({type(exc).__name__})") from None
    return table, skipped


def read(path: Path, *, source_tz: str = "Asia/Seoul") -> VendorFrame:
    """Read one Fitabase minute-steps or heart-rate-seconds CSV (plain or .gz)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    path = Path(path)
    table, skipped = _read_table(path)
    cols = table.column_names
    if "Id" in cols and "ActivityMinute" in cols and "Steps" in cols:
        kind, tcol, vcol = "steps", "ActivityMinute", "Steps"
    elif cols[:3] == ["Id", "Time", "Value"]:
        kind, tcol, vcol = "hr", "Time", "Value"
    else:
        # column names are not echoed: a file without its header would put a raw Id in the message
        raise VendorFileError(path, "line 1", "header is not a Fitabase minute-steps (Id, ActivityMinute, Steps) "
                              "or heart-rate (Id, Time, Value) header")
    n = table.num_rows
    reason = np.full(n, "", dtype=object)
    # ids, blanks and numbers in Arrow compute: no Python per row
    ids = pc.utf8_trim_whitespace(table["Id"])
    missing = pc.fill_null(pc.equal(ids, ""), True).to_numpy(zero_copy_only=False)
    reason[missing] = "missing_field"
    ctrl = pc.fill_null(pc.match_substring_regex(ids, r"[\x00-\x1f]"), False).to_numpy(zero_copy_only=False)
    reason[(reason == "") & ctrl] = "invalid_id"
    enc = pc.dictionary_encode(ids).combine_chunks()
    codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    uniques = enc.dictionary.to_pylist()

    def number(col: str) -> np.ndarray:
        c = pc.utf8_trim_whitespace(table[col])
        try:
            return pc.cast(c, pa.float64()).to_numpy(zero_copy_only=False).astype(float)
        except pa.ArrowInvalid:  # a damaged value somewhere: slower, per-value coercion
            return pd.to_numeric(c.to_pandas(), errors="coerce").to_numpy(dtype=float)

    def blank(col: str) -> np.ndarray:
        return pc.is_null(table[col]).to_numpy(zero_copy_only=False)

    # line of each kept row: data starts on line 2, skipped (wrong field count) lines are not rows
    skip = np.sort(np.asarray([s for s in skipped if s > 0], np.int64))
    line = np.arange(n, dtype=np.int64) + 2
    for s_ in skip:  # few: each shifts the rows after it
        line[line >= s_] += 1
    df = {tcol: table[tcol].to_pandas()}
    naive = _parse_times(df[tcol])
    reason[(reason == "") & naive.isna().to_numpy()] = "unparseable_date"
    utc = localize(naive, source_tz, reason)
    v = number(vcol)
    if kind == "steps":
        # an empty Steps cell next to a heart rate (the joined file) is "no step record", not damage
        has_hr = "HR_mean" in cols
        hr_v = number("HR_mean") if has_hr else np.full(n, np.nan)
        empty = blank(vcol)
        reason[(reason == "") & ~empty & ~np.isfinite(v)] = "unparseable_value"
        reason[(reason == "") & empty & ~np.isfinite(hr_v)] = "missing_field"
    else:
        reason[(reason == "") & ~np.isfinite(v)] = "unparseable_value"
    reason[(reason == "") & (v < 0)] = "negative_value"
    t = utc.to_numpy(dtype="datetime64[ns]").view(np.int64)
    ok = reason == ""
    key = pd.DataFrame({"g": np.where(ok, codes, -1), "t": np.where(ok, t // MINUTE_NS if kind == "steps" else t, -1),
                        "v": np.where(ok, v, 0.0) if kind == "hr" else 0.0})
    reason[ok & key.duplicated().to_numpy()] = "duplicate_record"
    ok = reason == ""
    notes = [f"{len(np.unique(codes[ok]))} participants (Id column); local times read in {source_tz}"]
    notes += reason_notes(reason, lambda i: f"line {line[i]}")
    if skipped:
        notes.append(f"wrong_field_count: {len(skipped):,} lines, first at line {skipped[0]}")
    g = codes[ok].astype(np.int64)
    finite = np.isfinite(v)
    if kind == "steps":
        m = t[ok] // MINUTE_NS
        steps = pd.DataFrame({"group": g, "minute": m, "steps": v[ok], "rank": 0})
        hr = pd.DataFrame({"group": g, "minute": m, "heart_rate": hr_v[ok], "rank": 0}).dropna(subset=["heart_rate"])
        steps = steps.sort_values(["group", "minute"])
        frame = assemble(steps, hr, list(uniques), {0: LABEL})
        steps_in = float(v[finite].sum())
        steps_dropped = {c: float(v[finite & (reason == c)].sum()) for c in count_reasons(reason[finite])}
    else:
        hr, _ = minute_heart_rate(g, t[ok], v[ok], np.zeros(len(g), np.int64))
        frame = assemble(pd.DataFrame(), hr, list(uniques), {0: LABEL})
        steps_in, steps_dropped = 0.0, {}
    dropped = count_reasons(reason)
    if skipped:
        dropped["wrong_field_count"] = len(skipped)
    return VendorFrame(frame, n + len(skipped), dropped, notes, int(ok.sum()), "fitabase_csv", steps_in,
                       steps_dropped).check()
