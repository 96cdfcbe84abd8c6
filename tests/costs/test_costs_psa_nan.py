"""Issue 21, case 7: PSA / bootstrap draws with a NaN (a failed model run) must not count as wins.

Before (commit 48b7a56) ``np.argmax`` sent every NaN draw to the first strategy: in the design below,
where "programme" is cost-effective in every clean draw, 2.5% NaN draws gave "usual care" a CEAC
probability of 0.025 instead of 0, and EVPI and the summary means were NaN. Now those draws are left
out of every summary, counted (``n_dropped``, ``diagnostics``) and warned once; all draws bad is an error.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation import costs
from evaluation.effects import EffectWarning

WTP = [30_000_000.0]


def draws(n: int = 4000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Programme costs 0.5M KRW more and gains 0.1 QALY (ICER 5M KRW/QALY), little noise: at 30M KRW/QALY
    it wins every draw."""
    rng = np.random.default_rng(seed)
    c = np.column_stack([rng.normal(1e6, 5e4, n), rng.normal(1.5e6, 5e4, n)])
    e = np.column_stack([rng.normal(1.0, 0.01, n), rng.normal(1.1, 0.01, n)])
    return c, e


def damaged(share: float = 0.025, col: int = 1, value: float = np.nan, seed: int = 2):
    c, e = draws()
    rng = np.random.default_rng(seed)
    bad = rng.choice(len(c), int(share * len(c)), replace=False)
    c = c.copy()
    c[bad, col] = value
    return c, e, bad


def test_nan_draws_are_not_wins_for_the_first_strategy():
    c, e = draws()
    clean = costs.CESamples(c, e, ["usual", "programme"])
    assert clean.ceac(WTP).set_index("strategy").loc["usual", "prob"] == 0.0
    cd, ed, bad = damaged()
    with pytest.warns(EffectWarning, match="draws with a NaN or infinite cost or effect: 100"):
        s = costs.CESamples(cd, ed, ["usual", "programme"])
    p = s.ceac(WTP).set_index("strategy")["prob"]
    assert p["usual"] == 0.0 and p["programme"] == 1.0  # before: 0.025 and 0.975
    assert s.n_samples == 3900 and s.n_draws == 4000 and s.n_dropped == 100
    diag = s.diagnostics.set_index("check")
    assert diag.loc["dropped:nonfinite_draws", "value"] == 100 and not diag.loc["dropped:nonfinite_draws", "passed"]
    # every summary uses the same 3,900 draws: equal to a CESamples of the clean rows
    keep = np.setdiff1d(np.arange(len(cd)), bad)
    ref = costs.CESamples(cd[keep], ed[keep], ["usual", "programme"])
    pd.testing.assert_frame_equal(s.summary(), ref.summary())
    pd.testing.assert_frame_equal(s.evpi(WTP), ref.evpi(WTP))
    pd.testing.assert_frame_equal(s.ceaf(WTP), ref.ceaf(WTP))
    pd.testing.assert_frame_equal(s.ce_plane_summary("usual"), ref.ce_plane_summary("usual"))
    assert np.isfinite(s.evpi(WTP)["evpi"]).all()  # before: NaN
    assert s.icer().table_["cost"].notna().all()


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("col", [0, 1])
def test_any_non_finite_draw_in_any_strategy_is_dropped(value, col):
    cd, ed, bad = damaged(share=0.01, col=col, value=value)
    with pytest.warns(EffectWarning, match="dropped"):
        s = costs.CESamples(cd, ed, ["usual", "programme"])
    assert s.n_dropped == len(bad)
    assert s.ceac(WTP)["prob"].sum() == pytest.approx(1.0)


def test_nan_effects_count_too_and_clean_samples_do_not_warn():
    c, e = draws()
    with warnings.catch_warnings():
        warnings.simplefilter("error", EffectWarning)
        clean = costs.CESamples(c, e, ["usual", "programme"])
    assert clean.n_dropped == 0 and clean.diagnostics["value"].eq(0).all()
    e2 = e.copy()
    e2[:7, 0] = np.nan
    with pytest.warns(EffectWarning, match=": 7"):
        assert costs.CESamples(c, e2, ["usual", "programme"]).n_samples == len(c) - 7


def test_all_draws_bad_is_refused():
    c, e = draws(50)
    c[:, 1] = np.nan
    with pytest.raises(ValueError, match="all 50 draws have a non-finite"):
        costs.CESamples(c, e, ["usual", "programme"])


def test_psa_with_failing_model_runs_drops_and_counts_them():
    """A PSA whose model returns NaN for some parameter draws (e.g. a probability outside 0-1 upstream)."""
    def build(p):
        class Run:
            effect = "qalys"
            results_ = pd.DataFrame({"strategy": ["usual", "programme"],
                                     "cost": [1e6, 1.5e6 if p["ok"] > 0.1 else np.nan], "qalys": [1.0, 1.1]})
        return Run()

    with pytest.warns(EffectWarning, match="dropped"):
        res = costs.psa(build, {"ok": costs.Beta(2, 2)}, n=200, seed=0)
    n_bad = int(np.isnan(res.costs_[:, 1]).sum())
    assert n_bad > 0 and res.n_dropped == n_bad and len(res.parameters_) == 200  # draws stay aligned
    assert res.ceac(WTP).set_index("strategy").loc["usual", "prob"] == 0.0


def test_bootstrap_ce_refuses_infinite_costs_and_missing_arms():
    d = pd.DataFrame({"arm": ["a"] * 5 + ["b"] * 5, "cost": np.arange(10.0), "qaly": np.ones(10)})
    with pytest.raises(ValueError, match=r"column 'cost' has 1 infinite value\(s\) in row\(s\) \[6\]"):
        costs.bootstrap_ce(d.assign(cost=d["cost"].where(d.index != 6, np.inf)), arm="arm", cost="cost",
                           effect="qaly", n_boot=10)
    with pytest.raises(ValueError, match=r"column 'arm' is missing in row\(s\) \[2\]"):
        costs.bootstrap_ce(d.assign(arm=d["arm"].where(d.index != 2, None)), arm="arm", cost="cost",
                           effect="qaly", n_boot=10)
