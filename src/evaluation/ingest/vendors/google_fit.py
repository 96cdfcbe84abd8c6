"""Google Fit Takeout "Daily activity metrics" CSVs (Android phones, Wear OS watches) -> minutes.

Layout (Google Takeout, ``Takeout/Fit/Daily activity metrics/YYYY-MM-DD.csv``, one file a day):
a header with ``Start time``, ``End time`` and ``Step count`` among about thirty columns (calories,
distance, heart points, move minutes, speed, heart rate ...), then one row per 15-minute interval.
Times are the time of day with the owner's UTC offset (``08:15:00.000+09:00``); the day is the
file's name. Column names follow the account's language; English headers are read here.

Rules:

* a row's ``Step count`` covers ``[day + Start time, day + End time)`` and is spread over its
  minutes by the shared proportional rule, in whole steps (a 15-minute interval gives each minute an
  equal share: the file has no finer detail);
* rows with an empty ``Step count`` hold no step record (``non_step_record``);
* heart rate is not read: the file gives only a 15-minute average, min and max, and placing an
  average in minutes would invent detail;
* the day totals file ``Daily activity metrics.csv`` (a ``Date`` column, one row a day) is not this
  layout: it is refused as day totals by ``describe_unsupported``.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._common import (
    MAX_SPAN_NS, VendorFileError, VendorFrame, _add, allocate_steps, assemble, count_reasons, read_text, reason_notes,
)

LABEL = "google_fit:takeout"
REQUIRED = ("Start time", "End time", "Step count")
_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})\.csv(?:\.gz)?$", re.I)
_TIME = re.compile(r"^\s*(\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}:?\d{2}|Z)\s*$")


def is_daily_metrics(header: list[str]) -> bool:
    """A Takeout daily-metrics header (English): start, end and step columns."""
    return all(c in header for c in REQUIRED)


def _instants(day: pd.Timestamp, raw: pd.Series) -> np.ndarray:
    """``HH:MM:SS.fff+HH:MM`` on ``day`` -> UTC int64 ns (-1 where unparseable)."""
    m = raw.fillna("").astype(str).str.extract(_TIME)
    text = day.strftime("%Y-%m-%d") + "T" + m[0].fillna("") + m[1].fillna("")
    t = pd.to_datetime(text.where(m[0].notna(), None), format="ISO8601", utc=True, errors="coerce")
    return np.where(t.isna(), -1, t.to_numpy(dtype="datetime64[ns]").view(np.int64))


def read(path: Path, *, participant_id: str) -> VendorFrame:
    """Read one Takeout daily-metrics file (one day)."""
    path = Path(path)
    m = _DAY.search(path.name)
    if not m:
        raise VendorFileError(path, None, "a Google Fit daily-metrics file needs its day in the name "
                              "(Takeout writes YYYY-MM-DD.csv); rename it back")
    day = pd.Timestamp(m.group(1))
    text = read_text(path)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:
        raise VendorFileError(path, None, f"CSV is malformed ({str(exc).strip()})") from None
    if not is_daily_metrics(list(df.columns)):
        raise VendorFileError(path, "line 1", "header lacks Start time, End time or Step count")
    n = len(df)
    reason = np.full(n, "", dtype=object)
    raw_v = df["Step count"]
    v = pd.to_numeric(raw_v, errors="coerce").to_numpy(float)
    reason[raw_v.isna().to_numpy()] = "non_step_record"
    start = _instants(day, df["Start time"])
    end = _instants(day, df["End time"])
    end = np.where((end >= 0) & (start >= 0) & (end <= start), end + 86_400_000_000_000, end)  # 23:45 -> 00:00
    reason[(reason == "") & ((start < 0) | (end < 0))] = "unparseable_date"
    reason[(reason == "") & ~np.isfinite(v)] = "unparseable_value"
    reason[(reason == "") & (v < 0)] = "negative_value"
    reason[(reason == "") & (end - start > MAX_SPAN_NS)] = "span_too_long"
    ok = reason == ""
    dropped = count_reasons(reason)
    notes = reason_notes(reason, lambda i: f"line {i + 2}", skip=("non_step_record",))
    zero = np.zeros(int(ok.sum()), np.int64)
    steps, used, _ = allocate_steps(zero, start[ok], end[ok], v[ok], zero)
    frame = assemble(steps, pd.DataFrame(), [participant_id], {0: LABEL})
    finite = np.isfinite(v)
    steps_dropped = {c: float(v[finite & (reason == c)].sum()) for c in count_reasons(reason[finite])}
    frac = float((v[ok] - np.rint(v[ok])).sum())
    if frac:
        steps_dropped["fractional_count"] = frac
    if not ok.any() and n:
        notes.append("no interval of the day has a step count")
    vf = VendorFrame(frame, n, dropped, notes, int(used.sum()), "google_fit_csv", float(v[finite].sum()), steps_dropped)
    _add(vf.dropped, "overlap_lower_priority", int((~used).sum()))
    return vf.check()
