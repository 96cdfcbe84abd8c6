"""A synthetic multi-year programme ledger consistent with the seed budgets, with known execution truth.

Built from the smart-band programme's 2023 line items (seed ``002_…``,
``data_samples/ledger_smartband_items_2023.csv``):

* 2023 planned amounts are the seed line items exactly (total 9,899,467 thousand KRW).
* 2022 planned amounts are the same items rescaled so that the year total equals
  the seed's 2022 budget (9,383,435 thousand KRW) exactly (largest-remainder
  rounding to 1,000 KRW).
* Other years scale the 2023 items by :data:`YEAR_SCALE` (illustrative).
* Executed = planned x a rate drawn from Beta(mean, concentration 80) with the
  mean per category in :data:`MEAN_RATE`, rounded down to 1,000 KRW. Two items
  carry a known pattern: :data:`CHRONIC_ITEMS` execute at ~55% every year (they
  meet the National Assembly Budget Office chronic under-execution rule), and
  :data:`ONE_OFF_LOW_ITEMS` execute at ~50% in the last year only (not chronic).

Deterministic for a given ``seed``. Funding is all city money (전액 시비), as in the seed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

SEED_TOTAL_2022_KRW = 9_383_435_000
SEED_TOTAL_2023_KRW = 9_899_467_000
YEAR_SCALE = {2020: 0.55, 2021: 0.80, 2024: 1.04, 2025: 1.06}
MEAN_RATE = {
    "other_compensation": 0.97,  # band distribution: bought and handed out
    "public_operations": 0.93,
    "office_management": 0.88,
    "it_development": 0.86,
}
CHRONIC_ITEMS = ("앱/웹 부하 테스트",)
ONE_OFF_LOW_ITEMS = ("개인정보영향평가",)
CONCENTRATION = 80.0


def _seed_items() -> pd.DataFrame:
    from ..publish.report import repo_root

    path = Path(repo_root()) / "data_samples" / "ledger_smartband_items_2023.csv"
    return pd.read_csv(path)


def _scale_to_total(amounts: np.ndarray, total: int, unit: int = 1000) -> np.ndarray:
    """Scale integer amounts to sum exactly to ``total`` in multiples of ``unit`` (largest remainder)."""
    raw = amounts / amounts.sum() * (total // unit)
    base = np.floor(raw).astype(np.int64)
    short = int(total // unit - base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:short]] += 1
    return base * unit


def programme_ledger(seed: int = 0, years: Sequence[int] = (2020, 2021, 2022, 2023, 2024)) -> pd.DataFrame:
    """Item-level planned vs executed ledger (KRW) for the smart-band programme, one row per item-year."""
    items = _seed_items()
    base = items["planned_krw"].to_numpy(np.int64)
    rng = np.random.default_rng(seed)
    last = max(years)
    rows = []
    for year in sorted(years):
        if year == 2023:
            planned = base.copy()
        elif year == 2022:
            planned = _scale_to_total(base.astype(float), SEED_TOTAL_2022_KRW)
        else:
            if year not in YEAR_SCALE:
                raise ValueError(f"no scale for year {year}; known {sorted(YEAR_SCALE) + [2022, 2023]}")
            planned = _scale_to_total(base.astype(float), int(round(SEED_TOTAL_2023_KRW * YEAR_SCALE[year], -3)))
        for i, it in items.iterrows():
            mean = MEAN_RATE[it["category_en"]]
            if it["item"] in CHRONIC_ITEMS:
                mean = 0.55
            elif it["item"] in ONE_OFF_LOW_ITEMS and year == last:
                mean = 0.50
            a, b = mean * CONCENTRATION, (1 - mean) * CONCENTRATION
            rate = float(rng.beta(a, b))
            executed = int(np.floor(planned[i] * rate / 1000) * 1000)
            rows.append({
                "programme": "smartband_9988_synthetic", "year": year, "period": str(year), "item": it["item"],
                "category": it["category"], "category_en": it["category_en"], "funding_source": "city",
                "planned_krw": int(planned[i]), "executed_krw": executed, "units": np.nan, "unit_cost_krw": np.nan,
                "source": f"synthetic: evaluation.synth.ledger.programme_ledger(seed={seed}) from "
                          "002_48a4b0b22932d2c8.txt line items",
                "note": "synthetic execution; planned 2022/2023 reconcile with the seed budget totals",
            })
    return pd.DataFrame(rows)


def truth() -> dict[str, tuple[str, ...]]:
    """Known execution patterns: items meeting the chronic under-execution rule and one-off lows."""
    return {"chronic": CHRONIC_ITEMS, "one_off_low": ONE_OFF_LOW_ITEMS}
