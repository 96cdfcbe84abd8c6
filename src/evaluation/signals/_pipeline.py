"""``process``: clean and summarise in one call, sharing the per-row work of both steps."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._clean import _hr_array, _steps_array, check_minutes, clean_arrays, local_ns, participant_codes
from ._config import DEFAULT, CleaningConfig
from ._daily import daily_arrays, frame_from_arrays


def process(minutes: pd.DataFrame, config: CleaningConfig = DEFAULT) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(clean_minutes(minutes), daily_summary(cleaned))`` with participant codes, local times
    and the sort order computed once. Same results as the two calls."""
    check_minutes(minutes)
    codes, labels = participant_codes(minutes["participant_id"])
    tns, toff = local_ns(minutes["ts"], config.tz)
    added, n_days = clean_arrays(codes, tns, toff, _steps_array(minutes["steps"]), _hr_array(minutes["heart_rate"]), config)
    cols = {c: minutes[c] for c in minutes.columns if c not in added}
    cols.update(added)
    cleaned = pd.DataFrame(cols, index=minutes.index, copy=False)
    arrays = added
    if n_days is None:  # input was unsorted: clean_arrays returned input order
        perm = np.lexsort((tns, codes))
        codes, tns = codes[perm], tns[perm]
        arrays = {k: v[perm] for k, v in added.items()}
    daily = frame_from_arrays(daily_arrays(codes, tns, toff, arrays, config, n_groups=n_days), labels, config)
    return cleaned, daily
