"""Executed cost per person from one organisation's ledger (seed 003, 일산동구보건소 건강생활실천 플랫폼).

Known truth: the seed's printed executed amounts (연도별 확보(집행)액, 백만원; executed in brackets):
국비 '22.7. 116 (116), '23 120 (100), '24 7.6 (7.6), total 243.6 (223.6); 시비 116 (116), 120 (100), 14.4 (14),
total 250.4 (230); 기타 '24 37 (37).
"""
from __future__ import annotations

import pandas as pd
import pytest

from evaluation import costs

ITEM = "건강생활실천 플랫폼"
PERIODS = {"2023": [2023], "2022.7-2024": [2022, 2023, 2024]}


@pytest.fixture()
def district():
    return costs.seed_ledger("district_secured")


def test_seed_totals_and_per_person(district):
    r = costs.cost_per_person(district, items=[ITEM], periods=PERIODS,
                              persons={"participants": 990, "behaviour_improved": 568, "risk_reduced": 612})
    assert r.programme == "ilsandong_ict_smart_health"
    assert r.executed("2023") == 200_000_000
    assert r.executed("2023", "national") == 100_000_000 and r.executed("2023", "city") == 100_000_000
    # the seed's totals per source, 2022.7-2024: 223.6 + 230 + 37 = 490.6 million
    assert r.executed("2022.7-2024", "national") == 223_600_000
    assert r.executed("2022.7-2024", "city") == 230_000_000
    assert r.executed("2022.7-2024", "other") == 37_000_000
    assert r.executed("2022.7-2024") == 490_600_000
    assert r.value("2023", "participants") == pytest.approx(200_000_000 / 990)
    assert r.value("2022.7-2024", "participants") == pytest.approx(490_600_000 / 990)
    assert r.value("2022.7-2024", "risk_reduced", "city") == pytest.approx(230_000_000 / 612)
    t = r.summary()
    # each funding source on its own, then the total; sources in the ledger's canonical order
    assert list(t[(t["period"] == "2022.7-2024") & (t["denominator"] == "participants")]["funding_source"]) == \
        ["national", "city", "other", "total"]


def test_organisations_are_never_pooled(district):
    foundation = costs.seed_ledger("foundation_budget")
    with pytest.raises(ValueError, match="organisations"):
        costs.cost_per_person(pd.concat([district, foundation]), periods={"2021": [2021]}, persons={"p": 100})
    with pytest.raises(ValueError, match="organisations"):  # other items of the same centre are fine; another ledger is not
        costs.cost_per_person(pd.concat([district, district.assign(programme="other_org")]), items=[ITEM],
                              periods=PERIODS, persons={"p": 100})


def test_bad_periods_items_and_small_counts(district):
    with pytest.raises(ValueError, match=r"year\(s\) \[2021\]"):
        costs.cost_per_person(district, items=[ITEM], periods={"x": [2021, 2022]}, persons={"p": 100})
    with pytest.raises(ValueError, match="not in column 'item'"):
        costs.cost_per_person(district, items=["없는 사업"], periods=PERIODS, persons={"p": 100})
    with pytest.raises(ValueError, match="must be positive"):
        costs.cost_per_person(district, items=[ITEM], periods=PERIODS, persons={"p": 0})
    small = costs.cost_per_person(district, items=[ITEM], periods={"2023": [2023]}, persons={"p": 7})
    assert small.summary()["suppressed"].all() and small.summary()["krw_per_person"].isna().all()
