"""`make demo-mhc`: params/mobile_healthcare.yaml runs the seed-003 programme into its own folder, lock and latest.

The report must state, for each KPI, the reported rate, its 95% CI, the national rate, the test result and
the denominator assumption, and the executed cost per participant and per person improved with sources;
the records report (71) the same from the centre's files read through evaluation.records, every figure
through the privacy gate (perturbed counts, rounded shares, prose of recorded results only);
every view of the dashboards must cope with a programme that has no wearable minutes.
"""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def mhc_run(tmp_path_factory, repo_root, kernel_name):
    from evaluation import runs

    root = tmp_path_factory.mktemp("mhc-outputs")
    return runs.run(repo_root / "params" / "mobile_healthcare.yaml", output_root=root, quiet=True)


def _text(path) -> str:
    """Visible text of an HTML report (tags stripped, whitespace collapsed)."""
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", raw, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", raw))


def test_own_folder_lock_and_latest(mhc_run):
    run_dir = mhc_run.run_dir
    assert mhc_run.status == "ok"
    assert run_dir.parent.name == "mobile_healthcare_ilsandong"
    assert (run_dir.parent / "latest").resolve() == run_dir.resolve()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [n["name"] for n in manifest["notebooks"]] == ["70_mhc_reported", "71_mhc_records"]
    assert manifest["disclosure"]["reports_withheld"] == [] and not manifest["attacks"]["exposed"]
    for name in ("70_mhc_reported", "71_mhc_records", "index"):
        assert (run_dir / "reports" / f"{name}.html").stat().st_size > 5_000
    # the records came in through the reader: files, rows in = kept + quarantined, the damaged rows set aside
    rows = manifest["records"]["rows"]
    assert rows["balanced"] and rows["rows_quarantined"] > 0 and not manifest["records"]["files_refused"]
    assert {f["file"].rsplit("/", 1)[-1] for f in manifest["records"]["files"]} == {"등록대장.xlsx", "검진결과.csv", "건강행태설문.xlsx"}
    assert manifest["inputs"]["participants"]["sha256"] == manifest["records"]["sha256"]


def test_report_states_each_kpi_with_ci_national_test_and_denominator(mhc_run):
    text = _text(mhc_run.run_dir / "reports" / "70_mhc_reported.html")
    # behaviour improvement: 568/990, Wilson 54.3%-60.4%, national 55.2%, score test p = 0.169
    assert "건강행태 개선율: 보고 57.4% (95% CI 54.3%–60.4%), 전국 55.2%, 점수 검정 p = 0.169" in text
    assert "분모 가정: 참여자 전체 990명 (k = 568)" in text
    # risk-factor reduction: 612/940, Wilson 62.0%-68.1%, national 58.5%, p = 3.94e-05
    assert "건강위험요인 감소율: 보고 65.1% (95% CI 62.0%–68.1%), 전국 58.5%, 점수 검정 p = 3.94e-05" in text
    assert "분모 가정: 건강위험군 940명 (k = 612)" in text
    assert "평균으로의 회귀" in text  # the caution sits next to the rates
    # executed cost per participant and per person improved, with the seed as source
    for figure in ("202,020원", "495,556원", "352,113원", "326,797원", "863,732원", "801,634원"):
        assert figure in text, figure
    assert "일산동구보건소 공약 추진실적" in text and "연도별 확보(집행)액" in text  # the seed by its title


def test_results_carry_their_provenance(mhc_run, repo_root):
    results = json.loads((mhc_run.run_dir / "results.json").read_text())
    rep, rec = results["70_mhc_reported"], results["71_mhc_records"]
    assert rep["reported_risk_rate"]["value"] == 0.651 and rep["reported_risk_rate"]["provenance"]["kind"] == "seed"
    assert rep["cost_per_participant_2023_krw"]["value"] == 202020
    assert rep["cost_per_participant_2022h2_2024_krw"]["value"] == 495556
    assert rep["execution_rate"]["value"] == pytest.approx(490.6 / 531, abs=1e-4)
    assert rep["reported_risk_pvalue"]["value"] == pytest.approx(3.94e-05, rel=0.01)  # not rounded to 0 when published
    assert rec["kpi_risk_reduction_share"]["provenance"]["kind"] == "synthetic"
    lo, hi = rec["kpi_risk_reduction_share"]["ci"]
    assert lo <= 0.651 <= hi  # the synthetic records' CI covers the reported rate
    lo, hi = rec["kpi_risk_reduction_difference"]["ci"]
    assert 0 < lo < hi  # the waiting list improves less (0.50 vs 0.651 by construction)
    table = pd.read_parquet(repo_root / "build" / "mhc" / "participants.parquet")  # what the records build wrote
    entry = rec["participants_enrolled"]
    assert entry["perturbed"] and abs(entry["value"] - int(table["treated"].sum())) <= 2  # perturbed by at most 2
    assert 985 <= entry["value"] <= 992  # 990 generated, one refused for a planted error


def test_records_report_states_each_kpi_with_its_cost_and_source(mhc_run):
    """Per KPI: the records' rate, its CI, the published denominator, the national rate, the test result, whether
    the reported rate is inside the CI, and the cost per person improved with its source -- in the report's text."""
    text = _text(mhc_run.run_dir / "reports" / "71_mhc_records.html")
    res = json.loads((mhc_run.run_dir / "results.json").read_text())["71_mhc_records"]
    for ind, name, national, reported in (("behaviour_improvement", "건강행태 개선율", "55.2%", "57.4%"),
                                          ("risk_reduction", "건강위험요인 감소율", "58.5%", "65.1%")):
        share, n = res[f"kpi_{ind}_share"], res[f"kpi_{ind}_n"]
        lo, hi = share["ci"]
        assert f"{name} (24주): {share['value']:.1%} (95% CI {lo:.1%}–{hi:.1%}), 분모 {n['value']:,}명" in text, name
        assert n["perturbed"] and share["provenance"]["kind"] == "synthetic"
        assert re.search(rf"{name} \(24주\): .{{0,120}}?, 전국 {re.escape(national)}, 점수 검정 p (=|<|&lt;) [\d.]+ → 전국", text), name
        assert f"보고된 {reported}는 이 신뢰구간 안에 있습니다" in text
        cost = res[f"cost_per_{ind}_improved_krw"]
        assert f"개선자 1인당 {cost['value']:,.0f}원" in text and "연도별 확보(집행)액" in cost["provenance"]["detail"]
        assert f"비교군보다 더 개선된 사람 1인당 {res[f'cost_per_{ind}_beyond_comparison_krw']['value']:,.0f}원" in text
    assert "연도별 확보(집행)액" in text  # the cost's source, the seed by its title
    assert "격리" in text and "이완기 혈압이 수축기 혈압 이상" in text  # why rows were set aside (reasons, no counts)
    page = (mhc_run.run_dir / "reports" / "71_mhc_records.html").read_text(encoding="utf-8")
    assert "<pre" not in page and "Traceback" not in text and ".txt" not in text  # no console output, seeds by title
    headers = re.findall(r"<th[^>]*>(.*?)</th>", page)
    assert headers and not [h for h in headers if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", h)]  # staff headers only


def test_records_tables_publish_no_exact_counts(mhc_run):
    from evaluation.publish import report

    kpis = report.load_table(mhc_run.run_dir, "kpis")
    assert not {"count", "n_undetermined", "z"} & set(kpis.columns)
    assert (kpis["share"].dropna() == kpis["share"].dropna().round(3)).all()  # rounded to what n supports
    for name in ("kpi_contrast", "baseline_by_group"):
        table = report.load_table(mhc_run.run_dir, name)
        assert not [c for c in table.columns if c == "n" or c.startswith("n_") or c == "count"], name
    res = json.loads((mhc_run.run_dir / "results.json").read_text())["71_mhc_records"]
    for key, entry in res.items():
        if entry["unit"] == "persons":
            assert entry.get("perturbed"), key


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_dashboards_cope_without_wearable_data(mhc_run, lang):
    from evaluation.dashboards import _data, views
    from evaluation.publish import plots

    plots.setup(lang, seaborn=False)  # the Hangul font, as the dashboard shell sets it
    root = mhc_run.run_dir.parent.parent
    run = _data.load_run("mobile_healthcare_ilsandong", root=root)
    for render, kwargs, needle in ((views.render_overview, {}, "no_wearable"), (views.render_districts, {"choice": None}, "no_wearable_districts"),
                                   (views.render_cost, {}, None)):
        widgets = render(run, lang, None, **kwargs)
        html = " ".join(_texts(widgets))
        assert "Traceback" not in html
        if needle:
            from evaluation.publish.i18n import t

            import html as h
            assert h.escape(t(needle, lang)) in html
    overview = " ".join(_texts(views.render_overview(run, lang, None)))
    assert ("57.4%" in overview) and ("65.1%" in overview) and ("data-provenance='seed'" in overview)
    cost = " ".join(_texts(views.render_cost(run, lang, None)))
    assert "202,020" in cost and "495,556" in cost and "92.4%" in cost


def _texts(widgets):
    out = []
    stack = list(widgets)
    while stack:
        w = stack.pop()
        if hasattr(w, "value") and isinstance(w.value, str):
            out.append(w.value)
        stack.extend(getattr(w, "children", ()))
    return out
