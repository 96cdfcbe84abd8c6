"""District profiles: average, significance flags, ranks, suppression, and the committed sample."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.reference import districts
from evaluation import equity
from evaluation.equity._sample import INDICATORS, SOURCE, lower_is_better


def _table(values, se=None, pop=None, indicator="x"):
    codes = districts.codes()
    n = len(codes)
    return pd.DataFrame({
        "district": codes, "indicator": indicator, "domain": "d", "year": 2023,
        "value": values, "population": pop if pop is not None else np.ones(n),
        "se": se if se is not None else np.ones(n),
    })


def test_average_flags_and_ranks_with_known_answer():
    vals = np.full(25, 50.0)
    vals[0], vals[1] = 60.0, 40.0  # far above / below, tiny SEs
    t = _table(vals, se=np.full(25, 0.5))
    prof = equity.district_profile(t, direction="higher").set_index("district")
    avg = vals.mean()
    assert prof["seoul_average"].iloc[0] == pytest.approx(avg)
    c0, c1 = districts.codes()[0], districts.codes()[1]
    assert prof.at[c0, "flag"] == "better" and prof.at[c1, "flag"] == "worse"
    assert prof.at[c0, "rank"] == 1 and prof.at[c1, "rank"] == 25
    assert (prof.drop([c0, c1])["flag"] == "similar").all()
    # z uses Var(y_j - mu) = se_j^2 (1 - 2 p_j) + sum p_k^2 se_k^2
    p = 1 / 25
    sd = np.sqrt(0.25 * (1 - 2 * p) + 25 * p**2 * 0.25)
    assert prof.at[c0, "z"] == pytest.approx((60 - avg) / sd)
    low = equity.district_profile(t, direction={"x": "lower"}).set_index("district")
    assert low.at[c0, "flag"] == "worse" and low.at[c0, "rank"] == 25


def test_population_weighted_average():
    vals = np.arange(25, dtype=float)
    pop = np.arange(1, 26, dtype=float)
    prof = equity.district_profile(_table(vals, pop=pop))
    assert prof["seoul_average"].iloc[0] == pytest.approx(np.sum(vals * pop) / pop.sum())


def test_without_se_uses_documented_zscore_fallback_and_never_says_significant():
    vals = np.full(25, 10.0)
    vals[3] = 30.0
    t = _table(vals).assign(se=np.nan)
    prof = equity.district_profile(t)
    assert (prof["flag_method"] == "zscore").all()
    assert prof.set_index("district").at[districts.codes()[3], "flag"] == "far_better"
    assert set(prof["flag"]) == {"far_better", "not_far"}
    for lang, words in (("ko", ("유의",)), ("en", ("significant", "Significant"))):
        labels = {equity.flag_label(f, lang) for f in prof["flag"]}
        assert not any(w in label for label in labels for w in words), labels
    assert equity.flag_label("not_far", "ko") == "다른 자치구와 차이가 크지 않음"
    assert equity.flag_label("far_better", "en").startswith("Far from the other districts")


def test_a_published_ci_gives_the_se():
    vals = np.full(25, 50.0)
    vals[0] = 60.0
    t = _table(vals).assign(se=np.nan, ci_low=vals - 1.96 * 0.5, ci_high=vals + 1.96 * 0.5)
    prof = equity.district_profile(t).set_index("district")
    assert (prof["flag_method"] == "se").all() and prof["se"].to_numpy() == pytest.approx(0.5, rel=1e-4)
    assert prof.at[districts.codes()[0], "flag"] == "better"


def test_small_cells_are_suppressed_and_not_ranked():
    vals = np.linspace(10, 20, 25)
    t = _table(vals).assign(n=[5] + [50] * 24)
    prof = equity.district_profile(t, n="n", min_n=10).set_index("district")
    c0 = districts.codes()[0]
    assert prof.at[c0, "flag"] == "suppressed"
    assert np.isnan(prof.at[c0, "value"]) and pd.isna(prof.at[c0, "rank"])
    assert prof["n_ranked"].iloc[0] == 24


def test_bad_district_code_and_direction_are_rejected():
    t = _table(np.ones(25))
    t.loc[4, "district"] = "99999"
    with pytest.raises(ValueError, match="row 4, column 'district'"):
        equity.district_profile(t)
    with pytest.raises(ValueError, match="'higher' or 'lower'"):
        equity.district_profile(_table(np.ones(25)), direction="up")


def test_committed_sample_is_the_documented_synthetic_table(repo_root):
    committed = pd.read_csv(repo_root / "data_samples" / "district_indicators.csv", dtype={"district": str})
    assert list(committed.columns) == ["district", "indicator", "domain", "year", "value", "population", "se", "source"]
    assert (committed["source"] == SOURCE).all() and "synthetic" in SOURCE
    assert committed["district"].nunique() == 25 and committed["year"].nunique() == 3
    assert set(committed["indicator"]) == set(INDICATORS)
    regenerated = equity.synthetic_indicators()
    pd.testing.assert_frame_equal(committed, regenerated, check_dtype=False)
    # the sample's built-in gradient shows: deprived districts are worse on adverse indicators
    prof = equity.district_profile(committed, year=2023, direction={k: "lower" for k in lower_is_better()})
    assert set(prof["flag"]) >= {"better", "worse"}
