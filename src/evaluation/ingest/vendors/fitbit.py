"""Fitbit account-export JSON (``steps-YYYY-MM-DD.json``, ``heart_rate-YYYY-MM-DD.json``) -> minutes.

Each file is one day, a list of ``{"dateTime": "MM/DD/YY HH:MM:SS", "value": ...}``; steps files
hold per-minute counts as strings (``"12"``), heart-rate files ``{"bpm": 69, "confidence": 2}``
samples every few seconds (averaged per minute). A file's kind comes from its values (``bpm`` =
heart rate) and, for scalar values, from its name: only ``steps-*`` files are read as steps (calories,
distance ... files have scalar values too and are counted as ``non_step_record``).

Time placement (``clock``). The file's *name* is the account's local day, but the account export
writes the ``dateTime`` of both steps and heart rate in **UTC**: the file for 2 March of a Sydney
account starts at ``03/01/.. 13:00:00``. Other tools (and our synthetic writer) write wall clock.
``clock="auto"`` (default) decides from the data, for a folder as a whole: when the times of any
day file fall outside the day its name gives, the files are UTC; otherwise they are wall clock in
``source_tz``. With UTC files, ``source_tz`` is still checked: a full-day steps file starts at the
account's local midnight, so ``file day - first time`` is the account's UTC offset, and a
disagreement with ``source_tz`` is warned (:class:`FitbitClockWarning`) and noted. An explicit
``clock="utc"`` / ``"local"`` that the data contradict is warned the same way, and followed.
"""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ._common import (
    VendorFileError, VendorFrame, allocate_steps, assemble, count_reasons, empty_frame, localize,
    minute_heart_rate, read_text, reason_notes, MINUTE_NS,
)

LABEL = "fitbit:account_export"
_DAY = re.compile(r"-(\d{4}-\d{2}-\d{2})\.json(?:\.gz)?$", re.I)
Clock = Literal["auto", "utc", "local"]


class FitbitClockWarning(UserWarning):
    """The time placement found in Fitbit files disagrees with what was passed (``source_tz`` / ``clock``)."""


def read(path: Path, *, participant_id: str, source_tz: str = "Asia/Seoul", hr_tz: str | None = None,
         clock: Clock = "auto") -> VendorFrame:
    """Read one Fitbit day file (steps or heart rate); ``clock`` as in the module docstring.

    ``hr_tz`` (optional) is the zone of heart-rate files' times when it is known to differ from the
    steps files' (it overrides ``clock`` for heart-rate files).
    """
    return read_many([Path(path)], participant_id=participant_id, source_tz=source_tz, hr_tz=hr_tz, clock=clock)


def read_many(files: list[Path], *, participant_id: str, source_tz: str = "Asia/Seoul", hr_tz: str | None = None,
              clock: Clock = "auto") -> VendorFrame:
    """Read a folder's Fitbit day files together: time placement is decided once from all of them."""
    from . import combine

    if clock not in ("auto", "utc", "local"):
        raise ValueError("clock must be 'auto', 'utc' or 'local'")
    loaded = [(Path(f), _load(Path(f))) for f in files]
    found, offsets = placement([(f, times) for f, (_, times) in loaded])
    notes: list[str] = []
    use = clock if clock != "auto" else (found or "local")
    if found is not None and clock != "auto" and found != clock:
        msg = (f"Fitbit files read with clock={clock!r}, but their times fall "
               f"{'outside' if found == 'utc' else 'inside'} the days their names give, which means {found!r}")
        warnings.warn(f"{files[0].parent}: {msg}", FitbitClockWarning, stacklevel=3)
        notes.append(msg)
    if use == "utc" and offsets:
        want = {f: _offset_h(f, source_tz) for f in offsets}
        off = [(f, got, want[f]) for f, got in offsets.items() if want[f] is not None and abs(got - want[f]) > 0.2]
        if off:
            f, got, exp = off[0]
            msg = (f"Fitbit times are UTC and the day files start at the account's local midnight, which is "
                   f"UTC{got:+.2f} h on {len(off)} of {len(offsets)} full days (first: {f.name}); source_tz={source_tz!r} "
                   f"is UTC{exp:+.2f} h: pass the account's zone as source_tz")
            warnings.warn(msg, FitbitClockWarning, stacklevel=3)
            notes.append(msg)
    if use == "utc":
        notes.append("times read as UTC (Fitbit account export: the file's name is the local day, its times are UTC)"
                     + (" -- found from the data" if clock == "auto" else ""))
    frames = [_frame(f, data, participant_id, "UTC" if use == "utc" else source_tz, hr_tz) for f, (data, _) in loaded]
    out = combine(frames)
    out.notes[:0] = [n for n in notes if n not in out.notes]
    return out


def _offset_h(f: Path, tz: str) -> float | None:
    m = _DAY.search(f.name)
    if not m:
        return None
    try:
        t = pd.Timestamp(m.group(1)).tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
    except (ValueError, TypeError):
        return None
    return t.utcoffset().total_seconds() / 3600


def placement(files: list[tuple[Path, pd.Series]]) -> tuple[str | None, dict[Path, float]]:
    """Where Fitbit day files' times sit: ``"utc"`` when the times of any file fall outside the day its
    name gives, ``"local"`` when every dated file's times are inside their day, ``None`` when no file
    says (no date in the name, or no times). Also, for steps files that cover a whole day (>= 1,380
    minutes), ``file day - first time`` in hours: the account's UTC offset when the times are UTC."""
    verdict = None
    offsets: dict[Path, float] = {}
    for f, t in files:
        m = _DAY.search(f.name)
        t = t.dropna()
        if not m or t.empty:
            continue
        day = pd.Timestamp(m.group(1))
        inside = bool(((t >= day) & (t < day + pd.Timedelta(days=1))).all())
        verdict = "utc" if (not inside or verdict == "utc") else "local"
        if f.name.lower().startswith("steps") and len(t) >= 1380:
            offsets[f] = round((day - t.min()).total_seconds() / 900) / 4
    return verdict, offsets


def _load(path: Path) -> tuple[list, pd.Series]:
    """(records, naive times) of one day file."""
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VendorFileError(path, f"line {exc.lineno}, column {exc.colno}", f"JSON is malformed or cut short ({exc.msg})") from None
    if not isinstance(data, list):
        raise VendorFileError(path, None, "expected a JSON list of {dateTime, value} records")
    raw_t = pd.Series([r.get("dateTime") if isinstance(r, dict) else None for r in data], dtype=object)
    naive = pd.to_datetime(raw_t.where(raw_t.map(lambda x: isinstance(x, str)), None), format="%m/%d/%y %H:%M:%S",
                           errors="coerce")
    return data, naive


def _frame(path: Path, data: list, participant_id: str, tz: str, hr_tz: str | None) -> VendorFrame:
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
    utc = localize(naive, (hr_tz or tz) if hr_file else tz, reason)
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
