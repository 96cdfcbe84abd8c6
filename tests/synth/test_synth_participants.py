"""The synthetic cohort's documented truth holds by construction and is recoverable."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.reference import districts, mets_criteria
from evaluation import synth


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return synth.participants(20_000, seed=11)


def test_same_seed_same_output():
    a, b = synth.participants(500, seed=5), synth.participants(500, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = synth.participants(500, seed=6)
    assert not a["sbp_w0"].equals(c["sbp_w0"])
    da, db = synth.daily(a, "2023-01-02", "2023-03-31", seed=5), synth.daily(b, "2023-01-02", "2023-03-31", seed=5)
    pd.testing.assert_frame_equal(da, db)


def test_contract_columns_and_domains(big):
    assert set(big["arm"].astype(str)) == set(synth.ARMS)
    assert big["age"].between(19, 69).all()
    assert set(big["district"]) <= set(districts.codes()) and big["district"].nunique() == 25
    assert set(big["sex"]) == {"M", "F"}
    assert big["participant_id"].is_unique
    treated = big[big["treated"]]
    assert treated["enrolled_on"].notna().all() and big.loc[~big["treated"], "enrolled_on"].isna().all()
    assert (big.loc[big["treated"], "wave"] >= 1).all() and (big.loc[~big["treated"], "wave"] == 0).all()
    # staggered: several distinct enrolment waves
    assert treated["wave"].nunique() == 4


@pytest.mark.parametrize("measure", list(synth.CLINICAL))
def test_injected_effect_is_recoverable_from_counterfactual(big, measure):
    tr = big[big["treated"] & big[f"{measure}_w24"].notna()]
    diff = (tr[f"{measure}_w24"] - tr[f"{measure}_w24_cf"]).mean()
    expected = synth.TRUTH.effect(measure, 24)
    # rounding to 0.1 and clipping of tg/hdl are the only departures
    assert diff == pytest.approx(expected, abs=0.15)
    comp = big[~big["treated"]]
    assert (comp[f"{measure}_w24"] == comp[f"{measure}_w24_cf"]).all()


def test_selection_makes_naive_comparison_biased(big):
    tr, co = big[big["treated"]], big[~big["treated"]]
    # joiners are at higher measured risk and less active at baseline
    assert mets_criteria.risk_count(tr).mean() > mets_criteria.risk_count(co).mean() + 0.3
    assert tr["habitual_steps"].mean() < co["habitual_steps"].mean() - 500
    naive = tr["sbp_w24"].mean() - co["sbp_w24"].mean()
    assert naive > synth.TRUTH.effect_sbp + 3  # confounding hides the true -4 mmHg


def test_regression_to_the_mean_among_those_selected_for_risk():
    p = synth.participants(40_000, seed=3, require_risk=True)
    tr = p[p["treated"]]
    assert (mets_criteria.risk_count(tr) >= 1).all()
    # untreated potential change among joiners is below the secular trend: measured-high regress down
    cf_change = (tr["sbp_w24_cf"] - tr["sbp_w0"]).mean()
    assert cf_change < synth.TRUTH.secular_sbp - 0.3
    # the counterfactual change among non-joiners is above the trend (selected for low measurements)
    co = p[~p["treated"]]
    assert (co["sbp_w24"] - co["sbp_w0"]).mean() > synth.TRUTH.secular_sbp


def test_dropout_removes_follow_up(big):
    tr = big[big["treated"]]
    dropped = tr[tr["dropout_week"] <= 12]
    assert dropped["sbp_w12"].isna().all() and dropped["sbp_w24"].isna().all()
    assert not tr.loc[tr["completed"], "sbp_w24"].isna().any()
    assert 0.55 < tr["completed"].mean() < 0.9


def test_daily_truth_and_effect():
    p = synth.participants(3000, seed=8)
    d = synth.daily(p, "2023-01-02", "2023-12-31", seed=8)
    assert d["valid_day"].equals(d["wear_minutes"] >= 600)
    valid = d[d["valid_day"]]
    # on valid days worn >= 900 minutes the recorded steps equal the truth
    full = valid[valid["wear_minutes"] >= 900]
    assert (full["steps"] == full["true_steps"]).mean() > 0.99
    # the effect column follows Truth.steps_effect exactly
    m = d.merge(p[["participant_id", "wave", "index_date"]], on="participant_id")
    weeks = (m["date"] - m["index_date"]).dt.days / 7
    np.testing.assert_allclose(m["true_effect"], np.round(synth.TRUTH.steps_effect(m["wave"].to_numpy(), weeks.to_numpy()), 1))
    # nobody who dropped out produces rows after dropping out
    m = m.merge(p[["participant_id", "dropout_week"]], on="participant_id")
    weeks = (m["date"] - m["index_date"]).dt.days / 7
    assert not (weeks > m["dropout_week"]).any()
