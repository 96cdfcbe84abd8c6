"""Fitabase research exports (Fitbit devices, many participants per file) -> minutes.

* ``minuteStepsNarrow``: ``Id, ActivityMinute, Steps`` (optionally ``HR_mean`` already per minute);
* ``heartrate_seconds``: ``Id, Time, Value`` samples every 5-15 s -> minute mean.

Times are naive local wall clock (``4/12/2016 12:00:00 AM`` as Fitabase writes them, or ISO
``2016-04-12 00:00:00``) in ``source_tz``. The ``Id`` column is the participant id. A minute written
twice for the same Id keeps its first row (``duplicate_record``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._common import (
    MINUTE_NS, VendorFileError, VendorFrame, assemble, count_reasons, localize, minute_heart_rate, open_binary, reason_notes,
)

LABEL = "fitabase:Fitbit"
_US_FMT = "%m/%d/%Y %I:%M:%S %p"


def _parse_times(raw: pd.Series) -> pd.Series:
    sample = raw.dropna()
    first = str(sample.iloc[0]) if len(sample) else ""
    if first.endswith(("AM", "PM")):
        return pd.to_datetime(raw, format=_US_FMT, errors="coerce")
    return pd.to_datetime(raw, format="ISO8601", errors="coerce")


def read(path: Path, *, source_tz: str = "Asia/Seoul") -> VendorFrame:
    """Read one Fitabase minute-steps or heart-rate-seconds CSV (plain or .gz)."""
    path = Path(path)
    with open_binary(path) as fh:
        try:
            df = pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
        except pd.errors.ParserError as exc:
            raise VendorFileError(path, None, f"CSV is malformed ({str(exc).strip()})") from None
        except pd.errors.EmptyDataError:
            raise VendorFileError(path, "line 1", "file is empty") from None
        except UnicodeDecodeError as exc:
            raise VendorFileError(path, None, f"not UTF-8 text (byte {exc.start})") from None
    cols = list(df.columns)
    if "ActivityMinute" in cols and "Steps" in cols:
        kind, tcol, vcol = "steps", "ActivityMinute", "Steps"
    elif cols[:3] == ["Id", "Time", "Value"]:
        kind, tcol, vcol = "hr", "Time", "Value"
    else:
        # column names are not echoed: a file without its header would put a raw Id in the message
        raise VendorFileError(path, "line 1", "header is not a Fitabase minute-steps (Id, ActivityMinute, Steps) "
                              "or heart-rate (Id, Time, Value) header")
    n = len(df)
    reason = np.full(n, "", dtype=object)
    ids = df["Id"].str.strip()
    reason[ids.isna().to_numpy() | (ids == "").to_numpy()] = "missing_field"
    naive = _parse_times(df[tcol])
    reason[(reason == "") & naive.isna().to_numpy()] = "unparseable_date"
    utc = localize(naive, source_tz, reason)
    v = pd.to_numeric(df[vcol], errors="coerce").to_numpy(dtype=float)
    if kind == "steps":
        # an empty Steps cell next to a heart rate (the joined file) is "no step record", not damage
        has_hr = "HR_mean" in cols
        hr_v = pd.to_numeric(df["HR_mean"], errors="coerce").to_numpy(dtype=float) if has_hr else np.full(n, np.nan)
        blank = df[vcol].isna().to_numpy()
        reason[(reason == "") & ~blank & ~np.isfinite(v)] = "unparseable_value"
        reason[(reason == "") & blank & ~np.isfinite(hr_v)] = "missing_field"
    else:
        reason[(reason == "") & ~np.isfinite(v)] = "unparseable_value"
    reason[(reason == "") & (v < 0)] = "negative_value"
    t = utc.to_numpy(dtype="datetime64[ns]").view(np.int64)
    codes, uniques = pd.factorize(ids)
    ok = reason == ""
    key = pd.DataFrame({"g": np.where(ok, codes, -1), "t": np.where(ok, t // MINUTE_NS if kind == "steps" else t, -1),
                        "v": np.where(ok, v, 0.0) if kind == "hr" else 0.0})
    reason[ok & key.duplicated().to_numpy()] = "duplicate_record"
    ok = reason == ""
    notes = [f"{len(uniques)} participants (Id column); local times read in {source_tz}"]
    notes += reason_notes(reason, lambda i: f"line {i + 2}")
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
    return VendorFrame(frame, n, count_reasons(reason), notes, int(ok.sum()), "fitabase_csv", steps_in,
                       steps_dropped).check()
