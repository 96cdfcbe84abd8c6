"""Participant outcomes fed to the cost model, on a hand-built cohort whose shares are known."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import costs

HEALTHY = {"sbp": 120.0, "dbp": 80.0, "glucose": 90.0, "waist": 80.0, "tg": 100.0, "hdl": 60.0}
METS = {"sbp": 140.0, "dbp": 90.0, "glucose": 110.0, "waist": 80.0, "tg": 100.0, "hdl": 60.0}  # bp, glucose + ...
METS3 = {**METS, "tg": 200.0}


def _person(treated: bool, w0: dict, w24: dict | None, dropout=np.nan, completed=True) -> dict:
    row = {"treated": treated, "sex": "F", "dropout_week": dropout, "completed": completed}
    row |= {f"{k}_w0": v for k, v in w0.items()}
    row |= {f"{k}_w24": (np.nan if w24 is None else w24[k]) for k in w0}
    return row


def test_shares_and_transitions_match_the_hand_count():
    p = pd.DataFrame([
        _person(True, METS3, HEALTHY),                 # resolved, risk reduced
        _person(True, METS3, METS3),                   # stays
        _person(True, METS3, None, dropout=6, completed=False),  # no follow-up: assumed unchanged
        _person(True, HEALTHY, HEALTHY, dropout=20),
        _person(False, METS3, METS3),
        _person(False, METS3, HEALTHY),
        _person(False, METS3, METS3),
        _person(False, HEALTHY, METS3),                # new MetS
    ])
    o = costs.programme_outcomes(p)
    assert o.share_active == pytest.approx(3 / 4) and o.share_completed == pytest.approx(3 / 4)
    assert o.resolved_treated == pytest.approx(1 / 3) and o.resolved_comparison == pytest.approx(1 / 3)
    assert o.extra_resolved == pytest.approx(0.0)
    assert o.risk_reduced_treated == pytest.approx(1 / 4) and o.risk_reduced_comparison == pytest.approx(1 / 4)
    assert o.mets_baseline_treated == pytest.approx(3 / 4)
    assert o.n_missing_followup == 1
    assert o.per_person["change"].tolist() == [1, 0, 0, 0, 0, 1, 0, -1]
    assert set(o.summary()["measure"]) >= {"share_active", "extra_resolved"}
