"""``daily_summary``: one row per participant-day (local date) from cleaned minutes."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import _kernels as K
from ._clean import ADDED_COLUMNS, FLAG_COLUMNS, SCATTERED, check_minutes, local_ns, participant_codes, sort_order, take
from ._config import CADENCE_BANDS, DEFAULT, CleaningConfig

BAND_COLUMNS = tuple(
    f"minutes_cadence_{lo}_{hi - 1}" if hi is not None else f"minutes_cadence_{lo}plus"
    for lo, hi in zip(CADENCE_BANDS, CADENCE_BANDS[1:] + (None,))
)
BAND_COLUMNS = ("minutes_cadence_0",) + BAND_COLUMNS[1:]
COUNT_COLUMNS = tuple("n_" + c.removeprefix("flag_") for c in FLAG_COLUMNS)
DAILY_COLUMNS = (
    ("participant_id", "date", "steps", "wear_minutes", "valid_day", "recorded_minutes", "gap_minutes")
    + BAND_COLUMNS
    + ("moderate_minutes", "vigorous_minutes", "peak_1min_cadence", "peak_30min_cadence", "resting_hr")
    + COUNT_COLUMNS
)


def daily_arrays(codes, tns, toff: int, cols: dict[str, np.ndarray], config: CleaningConfig = DEFAULT,
                 n_groups: int | None = None, perm: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Aggregate per-minute arrays into per-day arrays, visiting rows in ``perm`` order
    (``None``: the arrays are already sorted by participant code then time).

    ``n_groups``: the number of participant-days when already known (from the cleaning kernel).
    """
    off_min = int(config.clock_offset_minutes)
    if n_groups is None:
        n_groups = K.count_days(codes, tns, int(toff), cols["flag_clock_offset"], off_min, perm) if len(codes) else 0
    g = n_groups
    top = int(max(config.steps_max, int(cols["steps_clean"].max(initial=0)) if g else 0))
    band_of = (np.searchsorted(np.asarray(CADENCE_BANDS), np.arange(top + 1), side="right") - 1).astype(np.int64)
    nb = len(CADENCE_BANDS)
    res = {
        "pid": np.zeros(g, codes.dtype), "day": np.zeros(g, np.int64), "steps": np.zeros(g, np.int64),
        "wear": np.zeros(g, np.int32), "rec": np.zeros(g, np.int32), "gap": np.zeros(g, np.int64),
        "bands": np.zeros((g, nb), np.int32), "mod": np.zeros(g, np.int32), "vig": np.zeros(g, np.int32),
        "peak1": np.zeros(g, np.int32), "peak30": np.zeros(g, np.float64), "rhr": np.zeros(g, np.float64),
        "flags": np.zeros((g, len(FLAG_COLUMNS)), np.int32),
    }
    if g:
        K.daily_kernel(
            codes, tns, int(toff), off_min, cols["flag_duplicate"], cols["flag_conflict"], cols["flag_hr_implausible"], cols["flag_hr_stuck"],
            cols["flag_steps_implausible"], cols["flag_nonwear"], cols["gap_minutes"], cols["flag_clock_offset"],
            cols["steps_clean"], cols["heart_rate_clean"], band_of,
            int(config.moderate_cadence), int(config.vigorous_cadence), int(config.rest_window_minutes),
            int(config.rest_min_minutes),
            res["pid"], res["day"], res["steps"], res["wear"], res["rec"], res["gap"], res["bands"], res["mod"],
            res["vig"], res["peak1"], res["peak30"], res["rhr"], res["flags"], perm,
        )
    return res


def frame_from_arrays(res: dict[str, np.ndarray], labels: np.ndarray, config: CleaningConfig = DEFAULT) -> pd.DataFrame:
    """Tidy daily DataFrame from :func:`daily_arrays` output."""
    data = {
        "participant_id": np.asarray(labels, dtype=object)[res["pid"]],
        "date": (res["day"] * 86400).astype("datetime64[s]").astype("datetime64[ns]"),
        "steps": res["steps"],
        "wear_minutes": res["wear"],
        "valid_day": res["wear"] >= config.valid_day_minutes,
        "recorded_minutes": res["rec"],
        "gap_minutes": res["gap"],
    }
    for j, c in enumerate(BAND_COLUMNS):
        data[c] = res["bands"][:, j]
    data.update(
        moderate_minutes=res["mod"], vigorous_minutes=res["vig"], peak_1min_cadence=res["peak1"],
        peak_30min_cadence=res["peak30"], resting_hr=res["rhr"],
    )
    for j, c in enumerate(COUNT_COLUMNS):
        data[c] = res["flags"][:, j]
    return pd.DataFrame(data)


def daily_summary(cleaned: pd.DataFrame, config: CleaningConfig = DEFAULT) -> pd.DataFrame:
    """One row per participant and local date from :func:`clean_minutes` output.

    Columns: ``participant_id``, ``date`` (local date, datetime64), ``steps``
    (steps/day on worn, kept, plausible minutes), ``wear_minutes``,
    ``valid_day`` (wear >= ``valid_day_minutes``), ``recorded_minutes`` (kept
    rows), ``gap_minutes`` (minutes lost in sync gaps before rows of the day),
    ``minutes_cadence_*`` (worn minutes in the NHANES cadence bands 0, 1-19,
    ..., 120+ steps/min), ``moderate_minutes`` (>= 100 steps/min),
    ``vigorous_minutes`` (>= 130), ``peak_1min_cadence`` and
    ``peak_30min_cadence`` (steps/min), ``resting_hr`` (bpm, see
    :class:`CleaningConfig`), and ``n_<flag>`` counts of each cleaning flag
    (rows of the day carrying it). Same leading column names as
    :func:`evaluation.synth.daily`, so cohort code reads both.
    """
    check_minutes(cleaned, ("participant_id", "ts") + ADDED_COLUMNS)
    codes, labels = participant_codes(cleaned["participant_id"])
    cols = {c: cleaned[c].to_numpy() for c in ADDED_COLUMNS}
    tns, toff = local_ns(cleaned["ts"], config.tz)
    # the clock correction is constant per participant, so (participant, minute) order is enough
    perm = sort_order(codes, tns, toff)
    if perm is not None and K.breaks(perm) * SCATTERED > len(perm):  # shuffled: gather once
        codes, tns, cols, perm = take(perm, codes), take(perm, tns), {k: take(perm, v) for k, v in cols.items()}, None
    return frame_from_arrays(daily_arrays(codes, tns, toff, cols, config, perm=perm), labels, config)
