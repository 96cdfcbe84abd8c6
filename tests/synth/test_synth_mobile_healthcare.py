"""Synthetic participants of the mobile-healthcare programme: their expected KPIs equal the seed-003 rates.

The computed Wilson CIs must cover the reported rates (57.4%, 65.1%) and the waiting list's rates, and
over many seeds cover them about 95% of the time; records generated with other rates must be caught.
The same cohort written as the centre's files and read back through evaluation.records is tested in
tests/records/test_records_mhc.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import effects
from evaluation.synth import mobile_healthcare as mh


@pytest.fixture(scope="module")
def sample():
    """The demo's cohort (params/mobile_healthcare.yaml: seed 3, 940 + 50 participants, 400 waiting)."""
    return mh.participants(seed=3)


def test_the_generator_is_deterministic(sample):
    pd.testing.assert_frame_equal(sample, mh.participants(seed=3))
    assert not sample.equals(mh.participants(seed=4))


def test_shape_matches_the_seed(sample):
    joiners = sample[sample["treated"]]
    assert len(joiners) == 990
    assert joiners["group"].value_counts().to_dict() == {"at_risk": 940, "chronic": 50}
    assert (sample["arm"].astype(str) == "waiting_list").sum() == 400
    assert sample["participant_id"].is_unique
    assert not any(c.endswith("_cf") or "truth" in c for c in sample.columns)  # no truth in the analysed table
    at_risk = effects.at_risk(effects.risk_flags(joiners, 0))
    assert at_risk[joiners["group"].eq("at_risk").to_numpy()].all()  # every at-risk enrolee meets >= 1 criterion


def test_computed_cis_cover_the_reported_rates(sample):
    kpi = effects.kpis(sample, benchmarks=mh.NATIONAL, verbose=False)
    t = kpi.table.set_index(["indicator", "week"])
    for ind, rate in mh.REPORTED.items():
        row = t.loc[(ind, 24)]
        assert row["ci_low"] <= rate <= row["ci_high"], (ind, row["ci_low"], row["ci_high"])
    cmp = effects.kpis(sample[sample["arm"].astype(str) == "waiting_list"], joiners_only=False, weeks=(24,), verbose=False)
    for ind, rate in mh.COMPARISON_RATES.items():
        row = cmp.table.set_index(["indicator", "week"]).loc[(ind, 24)]
        assert row["ci_low"] <= rate <= row["ci_high"]


@pytest.mark.slow
def test_coverage_over_seeds_is_about_95_percent():
    hits = {k: 0 for k in mh.REPORTED}
    shares = {k: [] for k in mh.REPORTED}
    seeds = range(100, 160)
    for s in seeds:
        kpi = effects.kpis(mh.participants(seed=s, n_comparison=0), verbose=False)
        t = kpi.table.set_index(["indicator", "week"])
        for ind, rate in mh.REPORTED.items():
            row = t.loc[(ind, 24)]
            hits[ind] += row["ci_low"] <= rate <= row["ci_high"]
            shares[ind].append(row["share"])
    for ind, rate in mh.REPORTED.items():
        assert hits[ind] / len(seeds) >= 0.88, (ind, hits[ind])
        # mean of 60 shares of ~850 people: SE ~ 0.0021
        assert abs(np.mean(shares[ind]) - rate) < 0.008, (ind, np.mean(shares[ind]))


def test_other_rates_are_caught():
    """Records generated with a 75% risk-factor reduction do not cover the reported 65.1%: the check can fail."""
    p = mh.participants(seed=3, rates={"behaviour_improvement": 0.574, "risk_reduction": 0.75}, n_comparison=0)
    row = effects.kpis(p, verbose=False).table.set_index(["indicator", "week"]).loc[("risk_reduction", 24)]
    assert not row["ci_low"] <= 0.651 <= row["ci_high"]


def test_bad_rates_are_refused():
    with pytest.raises(ValueError, match="lacks"):
        mh.participants(rates={"risk_reduction": 0.6})
    with pytest.raises(ValueError, match="proportions"):
        mh.participants(rates={"risk_reduction": 1.6, "behaviour_improvement": 0.5})
