"""``process``: clean and summarise in one call, sharing the per-row work of both steps."""
from __future__ import annotations

import pandas as pd

from ._clean import clean_sorted, minutes_arrays, with_added
from ._config import DEFAULT, CleaningConfig
from ._daily import daily_arrays, frame_from_arrays


def process(minutes: pd.DataFrame, config: CleaningConfig = DEFAULT) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(clean_minutes(minutes), daily_summary(cleaned))`` with participant codes, local times
    and the sort order computed once. Same results as the two calls.

    Rows in any order are sorted at most once (one stable sort on a combined key) and
    both kernels visit the input-order arrays through that permutation (shuffled input
    is gathered into order once instead, see ``_clean.SCATTERED``).
    """
    codes, labels, tns, toff, steps, hr = minutes_arrays(minutes, config)
    res = clean_sorted(codes, tns, toff, steps, hr, config)
    if res.by_time is not None:  # shuffled input, already gathered into (participant, time) order
        s_codes, s_tns, s_out = res.by_time
        arrays = daily_arrays(s_codes, s_tns, toff, s_out, config, n_groups=res.n_days)
    else:
        arrays = daily_arrays(codes, tns, toff, res.out, config, n_groups=res.n_days, perm=res.perm)
    daily = frame_from_arrays(arrays, labels, config)
    return with_added(minutes, res.out), daily
