"""ICER table with dominance, NMB, bootstrap CE samples, CEAC / CEAF / EVPI."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation import costs


def test_icer_reproduces_published_multi_strategy_example():
    """Six strategies with strong and extended dominance.

    Source: the VA Health Economics Resource Center (HERC) cost-effectiveness
    analysis example as used in the dampack R package's test of
    ``calculate_icers`` (DARTH-git/dampack, tests/testthat/test_calculate_icers.R):
    UC is the reference, B ICER 5,000, D 12,500, E 20,000; C extendedly
    dominated, A strongly dominated.
    """
    res = costs.icer([55000, 35000, 25000, 10000, 12000, 5000], [5, 4, 3, 2, 1.5, 1], ["E", "D", "C", "B", "A", "UC"])
    t = res.table_
    assert list(t["strategy"]) == ["UC", "B", "D", "E", "C", "A"]
    assert list(t["status"]) == ["ND", "ND", "ND", "ND", "ED", "D"]
    np.testing.assert_array_equal(t["cost"], [5000, 10000, 35000, 55000, 25000, 12000])
    np.testing.assert_array_equal(t["inc_cost"].iloc[1:4], [5000, 25000, 20000])
    np.testing.assert_array_equal(t["inc_effect"].iloc[1:4], [1, 2, 1])
    np.testing.assert_array_equal(t["icer"].iloc[1:4], [5000, 12500, 20000])
    assert t[["inc_cost", "inc_effect", "icer"]].iloc[[0, 4, 5]].isna().all().all()
    assert res.frontier_ == ["UC", "B", "D", "E"]
    assert t.set_index("strategy").loc["A", "dominated_by"] == "B"
    assert t.set_index("strategy").loc["C", "dominated_by"] == "B & D"


@pytest.mark.parametrize("cost, effect, frontier", [
    # heemod tests/testthat/test_efficiency_frontier.R, cases 1-6 (Scenario i -> "Si")
    ([14807, 26041, 49706, 64266, 40022, 57392, 91744, 54651],
     [9.635, 10.2497, 11.1654, 11.5152, 11.582, 11.6248, 11.6296, 11.6588], ["S1", "S5", "S8"]),
    ([26041, 14807, 49706, 64266, 40022], [9.13, 9.635, 11.1654, 11.5152, 11.582], ["S2", "S5"]),
    ([25000, 35000, 50000, 54651, 64266, 91744], [10.2497, 11.1654, 11.3, 11.6588, 11.7, 12.1],
     ["S1", "S2", "S4", "S6"]),
    ([26041, 49706, 64266, 57392, 91744, 54651], [10.2497, 11.1654, 11.5152, 11.6248, 11.6296, 11.6296], ["S1", "S6"]),
    ([26041, 42000, 54651, 60000, 76000], [10.2497, 11.1654, 11.6296, 11.7, 11.8], ["S1", "S2", "S3", "S4", "S5"]),
    ([25000, 35000, 50000, 54651, 58500, 64266, 91744], [10.2497, 10.2497, 11.3, 11.6588, 11.6588, 11.7, 12.1],
     ["S1", "S4", "S7"]),
])
def test_frontier_matches_heemod_cases(cost, effect, frontier):
    names = [f"S{i + 1}" for i in range(len(cost))]
    assert sorted(costs.icer(cost, effect, names).frontier_) == sorted(frontier)


def test_identical_strategies_share_the_frontier_point():
    # heemod case 7: two identical scenarios (S4, S5) both on the frontier
    cost = [25000, 25000, 50000, 58500, 58500, 64266, 91744]
    effect = [10.2497, 10.25, 11.3, 11.6588, 11.6588, 11.7, 12.1]
    res = costs.icer(cost, effect, [f"S{i + 1}" for i in range(7)])
    assert sorted(res.frontier_) == ["S2", "S4", "S5", "S7"]
    t = res.table_.set_index("strategy")
    assert t.loc["S4", "icer"] == t.loc["S5", "icer"]


def test_cost_saving_dominant_strategy():
    res = costs.icer([1_000_000, 800_000, 1_500_000], [10.0, 10.2, 10.5], ["usual care", "programme", "intensive"])
    t = res.table_.set_index("strategy")
    assert t.loc["usual care", "status"] == "D" and t.loc["usual care", "dominated_by"] == "programme"
    assert np.isnan(t.loc["programme", "icer"])
    assert t.loc["intensive", "icer"] == pytest.approx(700_000 / 0.3)
    pw = costs.pairwise([1_000_000, 800_000, 1_500_000], [10.0, 10.2, 10.5],
                        ["usual care", "programme", "intensive"], reference="usual care").set_index("strategy")
    assert pw.loc["programme", "quadrant"] == "dominant" and np.isnan(pw.loc["programme", "icer"])
    assert pw.loc["intensive", "quadrant"] == "NE"
    assert pw.loc["intensive", "icer"] == pytest.approx(500_000 / 0.5)


def test_icer_accepts_dataframe_and_rejects_bad_input():
    df = pd.DataFrame({"strategy": ["a", "b"], "cost": [1.0, 3.0], "effect": [1.0, 2.0]})
    assert costs.icer(df).table_["icer"].iloc[1] == 2.0
    with pytest.raises(ValueError, match="unique"):
        costs.icer([1, 2], [1, 2], ["a", "a"])
    with pytest.raises(ValueError, match="same length"):
        costs.icer([1, 2], [1], ["a", "b"])
    with pytest.raises(ValueError, match="finite"):
        costs.icer([1, np.nan], [1, 2], ["a", "b"])


def test_nmb_and_optimal():
    np.testing.assert_allclose(costs.nmb([100, 300], [1, 2], 250), [150, 200])
    assert costs.nmb([100, 300], [1, 2], [0, 250]).shape == (2, 2)
    res = costs.icer([5000, 10000, 35000], [1, 2, 4], ["UC", "B", "D"])
    assert res.optimal(4000) == "UC" and res.optimal(6000) == "B" and res.optimal(13000) == "D"


# ---- bootstrap and acceptability ---------------------------------------------------------------

def _trial(n=400, seed=1):
    rng = np.random.default_rng(seed)
    a = pd.DataFrame({"arm": "control", "cost": rng.gamma(2, 50_000, n), "effect": rng.normal(0.70, 0.1, n)})
    b = pd.DataFrame({"arm": "programme", "cost": rng.gamma(2, 50_000, n) + 200_000,
                      "effect": rng.normal(0.72, 0.1, n)})
    return pd.concat([a, b], ignore_index=True)


def test_bootstrap_recovers_means_and_se():
    df = _trial()
    bs = costs.bootstrap_ce(df, arm="arm", cost="cost", effect="effect", n_boot=2000, seed=3,
                            strategies=["control", "programme"])
    s = bs.summary().set_index("strategy")
    g = df.groupby("arm")
    for arm in ("control", "programme"):
        assert s.loc[arm, "cost"] == pytest.approx(g["cost"].mean()[arm], rel=0.01)
        sd_boot = bs.costs_[:, bs.strategies.index(arm)].std()
        assert sd_boot == pytest.approx(g["cost"].std()[arm] / np.sqrt(g.size()[arm]), rel=0.1)
    # paired resampling keeps each person's cost and effect together
    rng = np.random.default_rng(0)
    e = rng.normal(size=300)
    paired = pd.DataFrame({"arm": "x", "cost": e * 1000, "effect": e})
    bp = costs.bootstrap_ce(paired, arm="arm", cost="cost", effect="effect", n_boot=200, seed=1)
    np.testing.assert_allclose(bp.costs_[:, 0], bp.effects_[:, 0] * 1000)


def test_bootstrap_is_deterministic_and_chunked():
    df = _trial(n=50)
    a = costs.bootstrap_ce(df, arm="arm", cost="cost", effect="effect", n_boot=100, seed=9)
    b = costs.bootstrap_ce(df, arm="arm", cost="cost", effect="effect", n_boot=100, seed=9, max_cells=120)
    np.testing.assert_array_equal(a.costs_, b.costs_)


def test_bootstrap_rejects_missing_values():
    df = _trial(n=20)
    df.loc[7, "effect"] = np.nan
    with pytest.raises(ValueError, match="row 7"):
        costs.bootstrap_ce(df, arm="arm", cost="cost", effect="effect", n_boot=10)


def test_ceac_ceaf_evpi_known_values():
    # two strategies, four equally likely states of the world; NMB_B = wtp * e - c, NMB_A = 0
    c = np.array([[0, 100], [0, 100], [0, 300], [0, 300]], dtype=float)
    e = np.array([[0, 1], [0, 2], [0, 1], [0, 2]], dtype=float)
    s = costs.CESamples(c, e, ["A", "B"])
    w = [0, 100, 140, 260, 1000]
    ce = s.ceac(w).pivot(index="wtp", columns="strategy", values="prob")
    # at 100 one state ties (NMB 0 = 0): ties go to the more effective strategy
    np.testing.assert_allclose(ce["B"], [0, 0.5, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(ce.sum(axis=1), 1.0)
    f = s.ceaf(w).set_index("wtp")
    # E[NMB_B] = 1.5 wtp - 200: negative below 133.3, so A is the expected-value choice there
    assert list(f["strategy"]) == ["A", "A", "B", "B", "B"]
    np.testing.assert_allclose(f["prob"], [1.0, 0.5, 0.5, 0.75, 1.0])
    ev = s.evpi([140]).iloc[0]["evpi"]
    assert ev == pytest.approx((40 + 180) / 4 - 10)  # E[max NMB] - max E[NMB]
    assert s.evpi([1000]).iloc[0]["evpi"] == pytest.approx(0.0)  # no decision uncertainty left


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(5, 60),
    seed=st.integers(0, 10_000),
    extra_cost=st.floats(0.0, 1e6),
    less_effect=st.floats(0.0, 2.0),
    strict=st.sampled_from(["cost", "effect", "both"]),
)
def test_strategy_dominated_in_every_replicate_has_ceac_zero(n, seed, extra_cost, less_effect, strict):
    rng = np.random.default_rng(seed)
    base_c = rng.gamma(2, 1e6, size=(n, 1))
    base_e = rng.normal(10, 1, size=(n, 1))
    other_c = rng.gamma(2, 1e6, size=(n, 1))
    other_e = rng.normal(10, 1, size=(n, 1))
    dc = extra_cost + (1.0 if strict in ("cost", "both") else 0.0)
    de = less_effect + (0.01 if strict in ("effect", "both") else 0.0)
    # column 1 is dominated by column 0 in every replicate (no cheaper, no more effective, one strictly)
    c = np.hstack([base_c, base_c + dc, other_c])
    e = np.hstack([base_e, base_e - de, other_e])
    s = costs.CESamples(c, e, ["dominant", "dominated", "other"])
    ce = s.ceac(np.linspace(0, 5e7, 26))
    assert (ce.loc[ce["strategy"] == "dominated", "prob"] == 0).all()
    assert np.allclose(ce.groupby("wtp")["prob"].sum(), 1.0)
    assert (s.evpi([0, 3e7])["evpi"] >= -1e-6).all()


def test_ce_plane_summary_has_no_sample_rows():
    df = _trial()
    bs = costs.bootstrap_ce(df, arm="arm", cost="cost", effect="effect", n_boot=300, seed=2,
                            strategies=["control", "programme"])
    agg = bs.ce_plane_summary(reference="control", wtp=30_000_000)
    assert len(agg) == 1 and agg["n_samples"].iloc[0] == 300
    probs = agg[["p_ne", "p_se_dominant", "p_nw_dominated", "p_sw"]].sum(axis=1).iloc[0]
    assert probs == pytest.approx(1.0, abs=0.01)
    plane = bs.ce_plane("control")
    assert len(plane) == 300 and set(plane["strategy"]) == {"programme"}


def test_plots_run():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evaluation.publish import plots

    plots.setup("en")
    bs = costs.bootstrap_ce(_trial(), arm="arm", cost="cost", effect="effect", n_boot=100, seed=2)
    for fig in (bs.plot_ce_plane(lang="en"), bs.plot_ceac(wtp=np.linspace(0, 5e7, 11), lang="en"),
                costs.icer([1, 2, 3], [1, 3, 2], ["a", "b", "c"]).plot(lang="en")):
        assert fig.axes
        plt.close(fig)
