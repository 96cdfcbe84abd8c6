"""Fitbit account-export JSON (``steps-YYYY-MM-DD.json``, ``heart_rate-YYYY-MM-DD.json``) -> minutes.

Each file is one day, a list of ``{"dateTime": "MM/DD/YY HH:MM:SS", "value": ...}``; steps files
hold per-minute counts as strings (``"12"``), heart-rate files ``{"bpm": 69, "confidence": 2}``
samples every few seconds (averaged per minute). Times are naive wall clock in the account's zone,
declared with ``source_tz``. A file's kind comes from its values (``bpm`` = heart rate) and, for
scalar values, from its name: only ``steps-*`` files are read as steps (calories, distance ... files
have scalar values too and are counted as ``non_step_record``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ._common import (
    VendorFileError, VendorFrame, allocate_steps, assemble, count_reasons, empty_frame, localize,
    minute_heart_rate, read_text, reason_notes, MINUTE_NS,
)

LABEL = "fitbit:account_export"


def read(path: Path, *, participant_id: str, source_tz: str = "Asia/Seoul", hr_tz: str | None = None) -> VendorFrame:
    """Read one Fitbit day file (steps or heart rate).

    ``hr_tz`` is the zone of heart-rate files when it differs from ``source_tz``: several users
    report account exports whose heart-rate times are UTC while steps are local; check one day
    (walking minutes against heart-rate peaks) and pass ``hr_tz="UTC"`` if so.
    """
    path = Path(path)
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VendorFileError(path, f"line {exc.lineno}, column {exc.colno}", f"JSON is malformed or cut short ({exc.msg})") from None
    if not isinstance(data, list):
        raise VendorFileError(path, None, "expected a JSON list of {dateTime, value} records")
    n = len(data)
    notes: list[str] = []
    if n == 0:
        return VendorFrame(empty_frame(), 0, {}, ["empty day file"], 0, "fitbit_json")
    is_dict = [isinstance(r, dict) for r in data]
    recs = [r if ok else {} for r, ok in zip(data, is_dict)]
    values = [r.get("value") for r in recs]
    hr_file = any(isinstance(v, dict) and "bpm" in v for v in values)
    steps_file = not hr_file and path.name.lower().startswith("steps")
    reason = np.full(n, "", dtype=object)
    reason[~np.asarray(is_dict)] = "missing_field"
    if not hr_file and not steps_file:
        reason[reason == ""] = "non_step_record"
        notes.append("neither a steps nor a heart-rate file (by its values and name)")
        return VendorFrame(empty_frame(), n, count_reasons(reason), notes, 0, "fitbit_json").check()
    raw_t = pd.Series([r.get("dateTime") for r in recs], dtype=object)
    reason[(reason == "") & raw_t.isna().to_numpy()] = "missing_field"
    naive = pd.to_datetime(raw_t.where(raw_t.map(lambda x: isinstance(x, str)), None), format="%m/%d/%y %H:%M:%S",
                           errors="coerce")
    reason[(reason == "") & naive.isna().to_numpy()] = "unparseable_date"
    utc = localize(naive, (hr_tz or source_tz) if hr_file else source_tz, reason)
    if hr_file:
        raw_v = [v.get("bpm") if isinstance(v, dict) else None for v in values]
    else:
        raw_v = values
    v = pd.to_numeric(pd.Series(raw_v, dtype=object).map(lambda x: x if isinstance(x, (str, int, float)) and not isinstance(x, bool) else None),
                      errors="coerce").to_numpy(dtype=float)
    reason[(reason == "") & (pd.Series(raw_v, dtype=object).isna().to_numpy())] = "missing_field"
    reason[(reason == "") & ~np.isfinite(v)] = "unparseable_value"
    reason[(reason == "") & (v < 0)] = "negative_value"
    t = utc.to_numpy(dtype="datetime64[ns]").view(np.int64)
    ok = reason == ""
    # a minute written twice (steps), or the same sample twice (heart rate): keep the first
    key = pd.DataFrame({"t": np.where(ok, t // MINUTE_NS if not hr_file else t, -1), "v": np.where(hr_file, v, 0.0)})
    reason[ok & key.duplicated().to_numpy()] = "duplicate_record"
    ok = reason == ""
    dropped = count_reasons(reason)
    notes += reason_notes(reason, lambda i: f"record {i + 1}")
    zero = np.zeros(int(ok.sum()), np.int64)
    if hr_file:
        hr, used = minute_heart_rate(zero, t[ok], v[ok], zero)
        steps = pd.DataFrame()
        steps_in = 0.0
    else:
        # steps records are per minute: a record covers [dateTime, dateTime + 1 min)
        steps, used, _ = allocate_steps(zero, t[ok], t[ok] + MINUTE_NS, v[ok], zero)
        hr = pd.DataFrame()
        steps_in = float(np.nansum(np.where(np.isfinite(v), v, 0.0)))
    frame = assemble(steps, hr, [participant_id], {0: LABEL})
    steps_dropped = {}
    if not hr_file:
        finite = np.isfinite(v)
        steps_dropped = {c: float(v[finite & (reason == c)].sum()) for c in count_reasons(reason[finite])}
    return VendorFrame(frame, n, dropped, notes, int(used.sum()), "fitbit_json", steps_in, steps_dropped).check()
