"""Unit costs: cost per participant and per outcome, with small-denominator suppression."""
from __future__ import annotations

import numpy as np
import pytest

from evaluation import costs


def test_smartband_cost_per_participant_from_seed_002():
    # 2023: 9,899,467 thousand KRW for 150,000 band recipients + 70,000 own-device participants (seed 002)
    total = costs.seed_ledger("smartband_items_2023")["planned_krw"].sum()
    u = costs.unit_costs(total, enrolled=220_000, active=150_000 + 70_000, completed=110_000)
    assert u.cost_per_enrolled == pytest.approx(9_899_467_000 / 220_000)
    assert u.cost_per_completer == pytest.approx(9_899_467_000 / 110_000)
    s = u.summary()
    assert list(s["measure"]) == ["cost_per_enrolled", "cost_per_active", "cost_per_completer"]


def test_outcome_unit_costs():
    u = costs.unit_costs(1_000_000, enrolled=100, completed=80,
                         risk_reduced=costs.attributable_count(80, 0.55, 0.30),
                         steps_gain_per_day=1500, qalys_gained=0.4)
    assert u.cost_per_risk_reduced == pytest.approx(1_000_000 / 20)
    # 80 completers x 1.5 thousand steps/day
    assert u.cost_per_1000_steps_sustained == pytest.approx(1_000_000 / 120)
    assert u.cost_per_qaly == pytest.approx(2_500_000)


def test_small_denominators_are_suppressed():
    u = costs.unit_costs(1_000_000, enrolled=100, completed=8, risk_reduced=4.0)
    s = u.summary().set_index("measure")
    assert s.loc["cost_per_completer", "suppressed"] and np.isnan(s.loc["cost_per_completer", "krw_per_unit"])
    assert s.loc["cost_per_risk_reduced", "suppressed"]
    assert not s.loc["cost_per_enrolled", "suppressed"]


def test_bad_cohort_figures():
    with pytest.raises(ValueError, match="cannot exceed enrolled"):
        costs.unit_costs(1, enrolled=10, completed=11)
    with pytest.raises(ValueError, match="positive head count"):
        costs.unit_costs(1, enrolled=0)
    with pytest.raises(ValueError, match="proportion"):
        costs.attributable_count(10, 1.2, 0.1)
