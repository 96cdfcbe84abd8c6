"""The synthetic district-indicator sample behind ``data_samples/district_indicators.csv``.

Illustrative only: values are generated, not official statistics; the ``source``
column says so on every row. Each indicator follows a district deprivation
gradient plus noise, with a slight improvement over the years, so the equity
notebook has real gaps to show.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..reference import districts

SOURCE = "synthetic (illustrative, not official statistics)"

# our own illustrative deprivation ordering (0 = least deprived), not an official index
_DEPRIVATION = {
    "11110": 0.35, "11140": 0.3, "11170": 0.25, "11200": 0.4, "11215": 0.5, "11230": 0.65,
    "11260": 0.9, "11290": 0.5, "11305": 1.0, "11320": 0.8, "11350": 0.7, "11380": 0.7,
    "11410": 0.5, "11440": 0.3, "11470": 0.3, "11500": 0.6, "11530": 0.7, "11545": 0.9,
    "11560": 0.5, "11590": 0.4, "11620": 0.8, "11650": 0.0, "11680": 0.05, "11710": 0.2, "11740": 0.4,
}

# indicator -> (domain, base % in the least deprived district, gradient per unit deprivation,
#               yearly change, lower_is_better, respondents per district for the SE)
INDICATORS = {
    "walking_practice": ("health_behaviour", 58.0, -14.0, 0.8, False, 900),
    "current_smoking": ("health_behaviour", 15.0, 9.0, -0.4, True, 900),
    "obesity": ("chronic_disease", 30.0, 8.0, 0.3, True, 900),
    "hypertension_dx": ("chronic_disease", 17.0, 7.0, 0.2, True, 900),
    "unmet_medical_need": ("health_care", 4.0, 5.0, -0.3, True, 900),
    # administrative count, no sampling error: se left empty (profiles use their z-score fallback)
    "basic_livelihood_recipients": ("socioeconomic", 2.0, 6.0, 0.1, True, 0),
}
YEARS = (2021, 2022, 2023)


def lower_is_better() -> list[str]:
    """Indicators of the sample for which a lower value is better."""
    return [k for k, v in INDICATORS.items() if v[4]]


def synthetic_indicators(seed: int = 7) -> pd.DataFrame:
    """Tidy table: district, indicator, domain, year, value (%), population, se, source."""
    rng = np.random.default_rng(seed)
    t = districts.table()
    rows = []
    for ind, (domain, base, grad, trend, _, n_resp) in INDICATORS.items():
        noise = rng.normal(0, 0.05 * base + 0.3, len(t))  # persistent district effect
        for k, yr in enumerate(YEARS):
            dep = t["district"].map(_DEPRIVATION).to_numpy()
            true = base + grad * dep + trend * k + noise
            if n_resp:
                se = np.sqrt(true / 100 * (1 - true / 100) / n_resp) * 100
                val = np.clip(true + rng.normal(0, se), 0.1, 99.9)
            else:
                se = np.full(len(t), np.nan)
                val = np.clip(true, 0.1, 99.9)
            for code, pop, v, s in zip(t["district"], t["population_approx"], val, se):
                rows.append((code, ind, domain, yr, round(float(v), 2), int(pop),
                             round(float(s), 3) if np.isfinite(s) else np.nan, SOURCE))
    return pd.DataFrame(rows, columns=["district", "indicator", "domain", "year", "value", "population", "se", "source"])
