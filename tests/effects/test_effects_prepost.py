"""Pre/post difference of changes in daily steps, on daily rows with a known shift."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import effects


def test_difference_of_changes_recovers_the_shift_and_skips_the_ramp():
    rng = np.random.default_rng(0)
    rows, people = [], []
    index = pd.Timestamp("2024-03-01")
    for i in range(40):
        treated = i < 20
        people.append({"participant_id": f"p{i}", "treated": treated, "index_date": index})
        for day in range(-30, 150):
            shift = (1500 if treated else 300) if day >= 84 else (9999 if 0 <= day < 84 else 0)  # ramp is noise
            rows.append({"participant_id": f"p{i}", "date": index + pd.Timedelta(days=day),
                         "steps": 6000 + shift + rng.normal(0, 50), "valid_day": day % 17 != 0})
    daily, participants = pd.DataFrame(rows), pd.DataFrame(people)
    r = effects.prepost_steps(daily, participants, ramp_days=84)
    assert r.estimate == pytest.approx(1200, abs=15)
    assert r.change_treated == pytest.approx(1500, abs=15) and r.n_treated == 20 and r.n_comparison == 20
    # people with only one period are left out, not counted as zero change
    short = daily[~((daily["participant_id"] == "p0") & (pd.to_datetime(daily["date"]) >= index))]
    assert effects.prepost_steps(short, participants).n_treated == 19
