"""``clean_minutes``: every input row back, plus flag and cleaned-value columns."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _kernels as K
from ._config import DEFAULT, CleaningConfig

REQUIRED = ("participant_id", "ts", "steps", "heart_rate")
FLAG_COLUMNS = (
    "flag_duplicate", "flag_conflict", "flag_hr_implausible", "flag_hr_stuck",
    "flag_steps_implausible", "flag_nonwear", "flag_gap", "flag_clock_offset",
)
"""Flag columns added by :func:`clean_minutes`, in the order of the daily ``n_*`` counts."""
ADDED_COLUMNS = FLAG_COLUMNS + ("gap_minutes", "steps_clean", "heart_rate_clean", "wear")
_NS_PER_MIN = 60_000_000_000


def check_minutes(minutes: pd.DataFrame, required: tuple[str, ...] = REQUIRED) -> None:
    """Raise a ``ValueError`` naming missing columns or a timezone-naive ``ts``."""
    if not isinstance(minutes, pd.DataFrame):
        raise TypeError(f"minutes must be a pandas DataFrame, got {type(minutes).__name__}")
    missing = [c for c in required if c not in minutes.columns]
    if missing:
        raise ValueError(f"minutes is missing column(s) {missing}; expected {list(required)} (found {list(minutes.columns)})")
    ts = minutes["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"column 'ts' must be timezone-aware datetime (Asia/Seoul), found dtype {ts.dtype}; "
            "read band exports with evaluation.ingest, which localises times"
        )


def local_minutes(ts: pd.Series, tz: str = "Asia/Seoul") -> np.ndarray:
    """Local wall-clock minutes since 1970-01-01 (int64) for a tz-aware series."""
    if str(ts.dtype.tz) != tz:
        ts = ts.dt.tz_convert(tz)
    if tz == "Asia/Seoul":
        # fixed UTC+9 (no daylight saving since 1988): avoids a per-row zone lookup at 10^8 rows
        return ts.array.asi8 // _NS_PER_MIN + 540
    return ts.dt.tz_localize(None).array.asi8 // _NS_PER_MIN


def local_ns(ts: pd.Series, tz: str = "Asia/Seoul") -> tuple[np.ndarray, int]:
    """(int64 nanoseconds, minute offset) with local minute = ns // 60e9 + offset; zero-copy for Asia/Seoul."""
    if str(ts.dtype.tz) != tz:
        ts = ts.dt.tz_convert(tz)
    if tz == "Asia/Seoul":
        return ts.array.asi8, 540  # fixed UTC+9, see local_minutes
    return ts.dt.tz_localize(None).array.asi8, 0


def participant_codes(pid: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(int32 codes, unique labels); categorical codes are used as they are (no copy)."""
    if isinstance(pid.dtype, pd.CategoricalDtype):
        codes = pid.cat.codes.to_numpy()
        if (codes < 0).any():
            raise ValueError(f"column 'participant_id' has missing values (row {int(np.flatnonzero(codes < 0)[0])})")
        return codes, pid.cat.categories.to_numpy()
    values = pid.to_numpy()
    head = _run_heads(values) if values.dtype == object and len(values) > 1 else None
    if head is not None:
        run_codes, uniques = pd.factorize(values[head], sort=False)
        codes = np.repeat(run_codes.astype(np.int32), np.diff(np.append(head, len(values))))
    else:
        codes, uniques = pd.factorize(pid, sort=False)
    if (codes < 0).any():
        raise ValueError(f"column 'participant_id' has missing values (row {int(np.flatnonzero(codes < 0)[0])})")
    return codes.astype(np.int32, copy=False), np.asarray(uniques)


def _run_heads(values: np.ndarray) -> np.ndarray | None:
    """Start rows of runs of the same id object in an object array; ``None`` when runs are short.

    Exports list one participant's minutes together and pandas readers share one
    string object per distinct id, so ids come in long runs of the *same object*.
    Comparing neighbouring object addresses (a read-only int64 view of the array's
    pointers, kept alive by ``values``) and hashing one id per run is ~10x cheaper
    than pd.factorize hashing every row (0.02 s vs 0.2-0.25 s for 8M rows). Exact: equal addresses are the same id,
    and equal ids held in different objects only start extra runs.
    """
    n = len(values)
    head = None
    if values.flags.c_contiguous and values.itemsize == 8:
        addr = np.ctypeslib.as_array((ctypes.c_int64 * n).from_address(values.ctypes.data))
        head = np.flatnonzero(addr[1:] != addr[:-1]) + 1
    if head is None or len(head) > n // 8:
        # one object per row (e.g. built by astype(str)): compare values, ~3x cheaper than hashing
        head = np.flatnonzero(np.not_equal(values[1:], values[:-1])) + 1
        if len(head) > n // 8:
            return None
    return np.concatenate((np.zeros(1, head.dtype), head))


def _steps_array(steps: pd.Series) -> np.ndarray:
    if steps.dtype.kind in "iu" and not (isinstance(steps.dtype, pd.api.extensions.ExtensionDtype) and steps.hasnans):
        return steps.to_numpy(dtype=steps.dtype.numpy_dtype if hasattr(steps.dtype, "numpy_dtype") else None)
    # a missing steps cell means no step record in the minute: counted as 0 steps
    vals = pd.to_numeric(steps, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    vals = np.nan_to_num(vals, nan=0.0)
    return np.rint(vals).astype(np.int32)


def _hr_array(hr: pd.Series) -> np.ndarray:
    if hr.dtype == np.float32 or hr.dtype == np.float64:
        return hr.to_numpy()
    return pd.to_numeric(hr, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)


def sort_order(codes: np.ndarray, tns: np.ndarray, toff: int) -> np.ndarray | None:
    """Stable permutation to (participant code, local minute) order; ``None`` when already in order.

    One stable sort on a single int64 key: numpy's stable sort (timsort) merges the
    sorted runs it finds, so input that is mostly in order (files concatenated after
    a re-sync) costs little more than a pass. Ties keep input order.
    """
    if len(codes) < 2 or K.is_sorted(codes, tns):
        return None
    if int(codes.max()) < (1 << (63 - K.CODE_SHIFT)):
        key = np.empty(len(codes), np.int64)
        K.order_key(codes, tns, int(toff), key)
        return np.argsort(key, kind="stable")
    return np.lexsort((tns // _NS_PER_MIN + toff, codes))  # > 8 million participants: two keys


SCATTERED = 8
"""Visiting through the permutation pays a cache miss per column at every jump; when more than
1/SCATTERED of the rows jump (shuffled rather than mostly-ordered input) the columns are gathered
into sorted order once instead (1.4 s instead of 1.9 s of CPU for 4M fully shuffled rows; never
used on concatenated exports, whose jumps are two per re-synced block)."""


@dataclass
class Cleaned:
    """Cleaning outputs in input row order, and how the daily step should visit the rows.

    ``perm[i]`` is the input row of the ``i``-th row in (participant, minute) order
    (``None``: the input was already in that order). ``by_time``, when set, holds
    (codes, tns, outputs) already gathered into that order (shuffled input).
    """

    out: dict[str, np.ndarray]
    perm: np.ndarray | None
    n_days: int
    by_time: tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] | None = None


def clean_sorted(codes: np.ndarray, tns: np.ndarray, toff: int, steps: np.ndarray, hr: np.ndarray,
                 config: CleaningConfig = DEFAULT) -> Cleaned:
    """The cleaning rules on raw arrays in any row order (local minute = ``tns // 60e9 + toff``).

    Sorts at most once (:func:`sort_order`). Mostly-ordered input: the kernels read and
    write the input-order arrays through the permutation, no column is copied.
    Shuffled input: the four inputs are gathered, cleaned in order, and the outputs
    scattered back (see :data:`SCATTERED`).
    """
    n = len(codes)
    perm = sort_order(codes, tns, toff)
    if perm is not None and K.breaks(perm) * SCATTERED > n:
        src = (codes, tns, steps, hr)
        s_codes, s_tns, s_steps, s_hr = (np.empty(n, a.dtype) for a in src)
        K.gather4(perm, *src, s_codes, s_tns, s_steps, s_hr)
        res = _clean_kernel(s_codes, s_tns, toff, s_steps, s_hr, config, None)
        back = {c: np.empty_like(a) for c, a in res.out.items()}
        K.scatter12(perm, *(res.out[c] for c in ADDED_COLUMNS), *(back[c] for c in ADDED_COLUMNS))
        return Cleaned(back, perm, res.n_days, (s_codes, s_tns, res.out))
    return _clean_kernel(codes, tns, toff, steps, hr, config, perm)


def _clean_kernel(codes, tns, toff, steps, hr, config, perm) -> Cleaned:
    n = len(codes)
    # np.empty + fill rather than np.zeros: numpy requests huge pages for large arrays (see _kernels)
    out = {c: _zeros(n, np.bool_) for c in FLAG_COLUMNS}
    out["gap_minutes"] = _zeros(n, np.int32)
    out["steps_clean"] = _zeros(n, np.int16 if config.steps_max < 32768 else np.int32)
    out["heart_rate_clean"] = np.empty(n, hr.dtype if hr.dtype.kind == "f" else np.float64)
    out["wear"] = _zeros(n, np.bool_)
    out = {c: out[c] for c in ADDED_COLUMNS}
    frame, spike_len, spike_max, stream = config.quiet_rule()
    mode = config.quiet_mode()
    min_steps = float(config.clock_offset_min_steps) if config.detect_clock_offset else np.inf
    n_days = 0
    if n:
        n_days = K.clean_kernel(
            codes, tns, int(toff), steps, hr, float(config.hr_min), float(config.hr_max), int(config.steps_max),
            int(config.stuck_hr_minutes), mode, int(frame), int(spike_len), int(spike_max), int(stream),
            float(config.expected_activity_phase_h * 60.0), float(config.clock_offset_threshold_h * 60.0),
            min_steps, int(config.clock_offset_minutes), K.COS, K.SIN,
            out["flag_duplicate"], out["flag_conflict"], out["flag_hr_implausible"], out["flag_hr_stuck"],
            out["flag_steps_implausible"], out["flag_nonwear"], out["gap_minutes"], out["flag_gap"],
            out["flag_clock_offset"], out["wear"], out["steps_clean"], out["heart_rate_clean"], perm,
            int(config.steps_frame) if config.hr_absent_fallback else 0,
        )
    return Cleaned(out, perm, int(n_days))


def take(perm: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``a[perm]`` into a numpy-allocated array (huge pages, see _kernels)."""
    out = np.empty(len(perm), a.dtype)
    K.gather(perm, a, out)
    return out


def _zeros(n: int, dtype) -> np.ndarray:
    a = np.empty(n, dtype)
    a.fill(0)
    return a


def clean_arrays(codes: np.ndarray, tns: np.ndarray, toff: int, steps: np.ndarray, hr: np.ndarray,
                 config: CleaningConfig = DEFAULT) -> tuple[dict[str, np.ndarray], int | None]:
    """The cleaning rules on raw arrays (local minute = ``tns // 60e9 + toff``).

    Returns the added columns in input order and the number of participant-days
    (``None`` when the input was not in (participant, time) order; :func:`clean_sorted`
    also returns the permutation so that the daily step need not sort again).
    """
    res = clean_sorted(codes, tns, toff, steps, hr, config)
    return res.out, (res.n_days if res.perm is None else None)


def minutes_arrays(minutes: pd.DataFrame, config: CleaningConfig = DEFAULT):
    """(codes, labels, tns, toff, steps, hr) of a checked minutes frame."""
    check_minutes(minutes)
    codes, labels = participant_codes(minutes["participant_id"])
    tns, toff = local_ns(minutes["ts"], config.tz)
    return codes, labels, tns, toff, _steps_array(minutes["steps"]), _hr_array(minutes["heart_rate"])


def with_added(minutes: pd.DataFrame, added: dict[str, np.ndarray]) -> pd.DataFrame:
    """``minutes`` plus the added columns (existing Series are reused, not copied)."""
    cols = {c: minutes[c] for c in minutes.columns if c not in added}
    cols.update(added)
    return pd.DataFrame(cols, index=minutes.index, copy=False)


def clean_minutes(minutes: pd.DataFrame, config: CleaningConfig = DEFAULT) -> pd.DataFrame:
    """Return ``minutes`` with flag and cleaned columns added; no row is removed or reordered.

    Added columns (see :class:`CleaningConfig` for every threshold and its source):

    * ``flag_duplicate`` -- a redundant copy of a minute already present (the
      kept copy of each minute has the most steps, then a heart rate, then the
      higher heart rate, then comes first in input order: a partial re-sync
      under-counts, and the choice does not depend on row order);
    * ``flag_conflict`` -- the minute had copies with different values;
    * ``flag_hr_implausible`` / ``flag_steps_implausible`` -- outside
      ``hr_min``-``hr_max`` bpm / above ``steps_max`` steps/min (or negative);
    * ``flag_hr_stuck`` -- part of a run of >= ``stuck_hr_minutes`` identical HR values;
    * ``flag_nonwear`` -- the chosen non-wear rule (default: HR absent and 0 steps for >= 10 min);
    * ``flag_gap`` / ``gap_minutes`` -- minutes missing (sync gap) just before this row;
    * ``flag_clock_offset`` -- the participant's activity sits ~9 h off (UTC exported as local);
    * ``steps_clean`` (steps/min; 0 on duplicates and implausible minutes),
      ``heart_rate_clean`` (bpm; NaN on duplicates, implausible and stuck values),
      ``wear`` (kept and not non-wear).

    Rows are processed per participant in time order whatever the input order.
    ``ts`` must be timezone-aware; missing steps count as 0.
    """
    codes, _, tns, toff, steps, hr = minutes_arrays(minutes, config)
    return with_added(minutes, clean_sorted(codes, tns, toff, steps, hr, config).out)
