"""Seed ledgers reconcile exactly with every total printed in the seed documents.

Seeds (../shared/seeds/):
* 002_48a4b0b22932d2c8.txt -- 서울형 헬스케어(손목닥터 9988) 2023 budget: 예산 총괄 (천원), 산출근거, 추진일정.
* 003_f01fdccc24810ea1.txt -- 일산동구보건소 ICT 스마트 건강관리 플랫폼: 연도별 투자계획 / 확보(집행)액 (백만원).
* 004_8d32c820dded188b.txt -- 서울시 공공보건의료재단 2022 plan: 예산 총괄표, 예산증감 현황, 2021년 집행현황 (백만원),
  소요예산 per 2022 project (천원).
"""
from __future__ import annotations

import pandas as pd
import pytest

from evaluation import costs

K = 1_000  # 천원
M = 1_000_000  # 백만원


@pytest.fixture(scope="module")
def led():
    return {name: costs.seed_ledger(name) for name in costs.SEED_LEDGERS}


def test_every_seed_ledger_has_the_contract_columns_and_a_source(led):
    for name, df in led.items():
        assert set(costs.LEDGER_COLUMNS) <= set(df.columns), name
        assert df["source"].str.match(r"00[234]_[0-9a-f]{16}\.txt \| ").all(), name
        assert df["funding_source"].isin(costs.FUNDING_SOURCES).all(), name
        assert (df["planned_krw"] >= 0).all(), name  # the 002 category table prints zeros


def test_to_krw_is_exact():
    assert costs.to_krw("9,899,467", "thousand") == 9_899_467_000
    assert costs.to_krw("△175,000", "thousand") == -175_000_000
    assert costs.to_krw("47.6", "million") == 47_600_000
    assert costs.to_krw("1,731.6", "million") == 1_731_600_000
    with pytest.raises(ValueError, match="whole number"):
        costs.to_krw("0.0005", "thousand")
    with pytest.raises(ValueError, match="cannot read"):
        costs.to_krw("n/a", "thousand")


# ---- 002: smart-band programme -----------------------------------------------------------------

def test_smartband_category_totals_match_seed_002(led):
    cat = led["smartband_categories"]
    by_year = cat.groupby("year")["planned_krw"].sum()
    assert by_year[2022] == 9_383_435 * K  # 계 2022예산액
    assert by_year[2023] == 9_899_467 * K  # 계 2023예산액 (= 사업비 당해년도, 소요예산, 전액 시비)
    assert by_year[2023] - by_year[2022] == 516_032 * K  # 증감 (B-A)
    assert round((by_year[2023] - by_year[2022]) * 100 / by_year[2022]) == 5  # (B-A)*100/A
    wide = cat.pivot(index="category", columns="year", values="planned_krw")
    printed_change = {"사무관리비": (-175_000, -70), "공공운영비": (-307_710, -34), "연구용역비": (-253_901, -100),
                      "기타보상금": (1_000_000, 15), "자산및물품취득비": (-1_471_481, -100)}
    for c, (delta, pct) in printed_change.items():
        assert wide.loc[c, 2023] - wide.loc[c, 2022] == delta * K, c
        assert round((wide.loc[c, 2023] - wide.loc[c, 2022]) * 100 / wide.loc[c, 2022]) == pct, c
    assert wide.loc["전산개발비", 2023] - wide.loc["전산개발비", 2022] == 1_724_124 * K
    assert (cat["funding_source"] == "city").all()  # [사비] 9,899,467천원, 전액 시비


def test_smartband_2023_line_items_reconcile_with_categories_and_arithmetic(led):
    items, cat = led["smartband_items_2023"], led["smartband_categories"]
    assert items["planned_krw"].sum() == 9_899_467 * K
    sub = items.groupby("category")["planned_krw"].sum()
    cat23 = cat[cat["year"] == 2023].set_index("category")["planned_krw"]
    for c, v in sub.items():
        assert v == cat23[c], c
    assert set(cat23[cat23 > 0].index) == set(sub.index)
    assert sub["사무관리비"] == 75_000 * K and sub["공공운영비"] == 600_343 * K
    assert sub["전산개발비"] == 1_724_124 * K and sub["기타보상금"] == 7_500_000 * K
    # units x unit cost as printed: 50,000원 x 150,000명 = 7,500,000천원 etc.
    priced = items.dropna(subset=["units"])
    assert len(priced) == 3
    assert (priced["units"] * priced["unit_cost_krw"] == priced["planned_krw"]).all()
    band = items.set_index("item").loc["스마트밴드 보급"]
    assert band["units"] == 150_000 and band["unit_cost_krw"] == 50_000 and band["planned_krw"] == 7_500_000 * K
    # 추진일정: 스마트밴드 구입 및 보급 7,500,000 + 시스템 개발 및 운영 등 2,399,467 = 9,899,467 (천원)
    assert items.loc[items["category"] != "기타보상금", "planned_krw"].sum() == 2_399_467 * K
    # printed won amounts: 유지보수 268,143,000원, 클라우드 332,200,000원, 구축 1,384,450,000원, 부하 88,000,000원,
    # 개인정보영향평가 111,544,000원, 감리비 140,130,000원
    won = items.set_index("item")["planned_krw"]
    assert won["헬스케어 시스템 유지보수"] == 268_143_000 and won["공공 클라우드 사용료"] == 332_200_000
    assert won["손목닥터 9988 앱/웹 시스템 구축"] == 1_384_450_000 and won["앱/웹 부하 테스트"] == 88_000_000
    assert won["개인정보영향평가"] == 111_544_000 and won["감리비"] == 140_130_000


# ---- 003: district ICT smart-health platform --------------------------------------------------

def test_district_investment_plan_matches_printed_totals(led):
    plan = led["district_plan"]
    assert plan["planned_krw"].sum() == 1_731_600_000  # 계 1,731.6
    per = plan.groupby("period")["planned_krw"].sum()
    printed = {"pre_term": 672, "2022H2": 251, "2023": 284, "2024": 337.6, "2025": 93.5, "2026H1": 93.5}
    for p, v in printed.items():
        assert per[p] == round(v * M), p
    rows = plan.groupby(["item", "funding_source"])["planned_krw"].sum()
    printed_rows = {
        ("건강생활실천 플랫폼", "national"): 590.2, ("건강생활실천 플랫폼", "city"): 609.8, ("건강생활실천 플랫폼", "other"): 37,
        ("정신건강 플랫폼", "national"): 11, ("정신건강 플랫폼", "provincial"): 11, ("정신건강 플랫폼", "city"): 98,
        ("AI돌봄 플랫폼", "national"): 31.4, ("AI돌봄 플랫폼", "provincial"): 203.3, ("AI돌봄 플랫폼", "city"): 133.6,
        ("AI돌봄 플랫폼", "other"): 6.3,
    }
    assert len(rows) == len(printed_rows)
    for k, v in printed_rows.items():
        assert rows[k] == round(v * M), k


def test_district_secured_and_executed_match_printed_totals(led):
    sec = led["district_secured"]
    assert sec["planned_krw"].sum() == 896_900_000  # 계 896.9
    assert sec["executed_krw"].sum() == 820_700_000  # (820.7)
    per = sec.groupby("year")[["planned_krw", "executed_krw"]].sum()
    for year, (s, e) in {2022: (251, 251), 2023: (284, 244), 2024: (361.9, 325.7)}.items():
        assert per.loc[year, "planned_krw"] == round(s * M), year
        assert per.loc[year, "executed_krw"] == round(e * M), year
    rows = sec.groupby(["item", "funding_source"])[["planned_krw", "executed_krw"]].sum()
    printed_rows = {
        ("건강생활실천 플랫폼", "national"): (243.6, 223.6), ("건강생활실천 플랫폼", "city"): (250.4, 230),
        ("건강생활실천 플랫폼", "other"): (37, 37), ("정신건강 플랫폼", "national"): (7, 7),
        ("정신건강 플랫폼", "provincial"): (7, 7), ("정신건강 플랫폼", "city"): (68, 68),
        ("AI돌봄 플랫폼", "national"): (27, 27), ("AI돌봄 플랫폼", "provincial"): (203, 169),
        ("AI돌봄 플랫폼", "city"): (47.6, 45.8), ("AI돌봄 플랫폼", "other"): (6.3, 6.3),
    }
    assert len(rows) == len(printed_rows)
    for k, (s, e) in printed_rows.items():
        assert rows.loc[k, "planned_krw"] == round(s * M), k
        assert rows.loc[k, "executed_krw"] == round(e * M), k
    # the narrative figure "도비 202,500천원 확보" (2024 AI robots) is the 202.3-203 백만원 cell, rounded in the table
    ai_prov_2024 = sec[(sec["item"] == "AI돌봄 플랫폼") & (sec["funding_source"] == "provincial")]["planned_krw"].sum()
    assert abs(ai_prov_2024 - 202_500 * K) <= 0.5 * M


# ---- 004: foundation --------------------------------------------------------------------------

def test_foundation_budget_and_2021_execution_match_printed_totals(led):
    fb = led["foundation_budget"]
    by = fb.groupby("year")[["planned_krw", "executed_krw"]].sum(min_count=1)
    assert by.loc[2022, "planned_krw"] == 7_126 * M  # 계 7,126 (= 출연금)
    assert by.loc[2021, "planned_krw"] == 6_682 * M
    assert by.loc[2021, "executed_krw"] == 5_444 * M
    assert by.loc[2022, "planned_krw"] - by.loc[2021, "planned_krw"] == 444 * M  # 증감 444 (6.6%)
    assert round((by.loc[2022, "planned_krw"] / by.loc[2021, "planned_krw"] - 1) * 100, 1) == 6.6
    w = fb.pivot(index="category", columns="year", values="planned_krw")
    # 2022 예산 총괄표: 일반관리비 5,437 = 인건비 + 운영비; 정책사업비 1,430 = 사업비; 예비비 259
    assert w.loc["인건비", 2022] + w.loc["운영비", 2022] == 5_437 * M
    assert w.loc["사업비", 2022] == 1_430 * M and w.loc["예비비", 2022] == 259 * M
    for c, (delta, pct) in {"인건비": (-22, -0.7), "운영비": (132, 5.8), "사업비": (100, 7.5), "예비비": (234, 936)}.items():
        assert w.loc[c, 2022] - w.loc[c, 2021] == delta * M, c
        assert round((w.loc[c, 2022] / w.loc[c, 2021] - 1) * 100, 1) == pct, c


def test_foundation_projects_2022(led):
    pr = led["foundation_projects_2022"]
    assert len(pr) == 20
    assert pr["planned_krw"].sum() == 598_000 * K
    # the listed projects are part of, and do not exhaust, the 사업비 budget of 1,430 백만원
    assert pr["planned_krw"].sum() < 1_430 * M
    econ = pr[pr["item"].str.startswith("3-4 ")]
    assert econ["planned_krw"].iloc[0] == 70_000 * K  # commissions the economic evaluation of 온서울 건강온


def test_validate_ledger_names_column_and_row():
    df = costs.seed_ledger("district_secured")
    bad = df.copy()
    bad.loc[3, "funding_source"] = "시비"
    with pytest.raises(ValueError, match=r"funding_source.*row 3"):
        costs.validate_ledger(bad)
    bad = df.copy()
    bad.loc[2, "executed_krw"] = bad.loc[2, "planned_krw"] + 1
    with pytest.raises(ValueError, match="row 2 executed_krw exceeds"):
        costs.validate_ledger(bad)
    with pytest.raises(ValueError, match="missing column"):
        costs.validate_ledger(df.drop(columns=["source"]))
    bad = df.copy().astype({"planned_krw": object})
    bad.loc[1, "planned_krw"] = "lots"
    with pytest.raises(ValueError, match=r"'planned_krw' row 1 is not a number"):
        costs.validate_ledger(bad)


def test_load_ledgers_concatenates(repo_root):
    paths = [repo_root / "data_samples" / f for f in costs.SEED_LEDGERS.values()]
    allled = costs.load_ledgers(paths)
    assert len(allled) == sum(len(pd.read_csv(p)) for p in paths)
    tot = costs.ledger_totals(allled, by=["programme"])
    assert set(tot["programme"]) == {"smartband_9988", "ilsandong_ict_smart_health", "seoul_public_health_foundation"}
