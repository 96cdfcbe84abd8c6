"""``clean_minutes``: every input row back, plus flag and cleaned-value columns."""
from __future__ import annotations

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
            raise ValueError("column 'participant_id' has missing values")
        return codes, pid.cat.categories.to_numpy()
    codes, uniques = pd.factorize(pid, sort=False)
    if (codes < 0).any():
        raise ValueError(f"column 'participant_id' has missing values (row {int(np.flatnonzero(codes < 0)[0])})")
    return codes.astype(np.int32, copy=False), np.asarray(uniques)


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


def clean_arrays(codes: np.ndarray, tns: np.ndarray, toff: int, steps: np.ndarray, hr: np.ndarray,
                 config: CleaningConfig = DEFAULT) -> tuple[dict[str, np.ndarray], int | None]:
    """The cleaning rules on raw arrays (local minute = ``tns // 60e9 + toff``).

    Returns the added columns in input order and the number of participant-days
    (``None`` when the input had to be sorted, since then the caller sorts again).
    """
    n = len(codes)
    perm = None
    if n and not K.is_sorted(codes, tns):
        perm = np.lexsort((tns, codes))  # stable: ties keep input order
        codes, tns, steps, hr = codes[perm], tns[perm], steps[perm], hr[perm]
    out = {c: np.zeros(n, np.bool_) for c in FLAG_COLUMNS}
    out["gap_minutes"] = np.zeros(n, np.int32)
    out["steps_clean"] = np.zeros(n, np.int16 if config.steps_max < 32768 else np.int32)
    out["heart_rate_clean"] = np.empty(n, hr.dtype if hr.dtype.kind == "f" else np.float64)
    out["wear"] = np.zeros(n, np.bool_)
    frame, spike_len, spike_max, stream = config.quiet_rule()
    mode = {"hr_steps": 0, "hr": 1, "choi": 2, "troiano": 2}[config.nonwear]
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
            out["flag_clock_offset"], out["wear"], out["steps_clean"], out["heart_rate_clean"],
        )
    if perm is not None:
        inv = np.empty_like(perm)
        inv[perm] = np.arange(n)
        return {k: v[inv] for k, v in out.items()}, None
    return out, int(n_days)


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
    check_minutes(minutes)
    codes, _ = participant_codes(minutes["participant_id"])
    tns, toff = local_ns(minutes["ts"], config.tz)
    added, _ = clean_arrays(codes, tns, toff, _steps_array(minutes["steps"]), _hr_array(minutes["heart_rate"]), config)
    # a dict of existing Series plus new arrays: no copy of the input columns
    cols = {c: minutes[c] for c in minutes.columns if c not in added}
    cols.update(added)
    return pd.DataFrame(cols, index=minutes.index, copy=False)
