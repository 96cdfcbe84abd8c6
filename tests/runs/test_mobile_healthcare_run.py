"""`make demo-mhc`: params/mobile_healthcare.yaml runs the seed-003 programme into its own folder, lock and latest.

The report must state, for each KPI, the reported rate, its 95% CI, the national rate, the test result and
the denominator assumption, and the executed cost per participant and per person improved with sources;
every view of the dashboards must cope with a programme that has no wearable minutes.
"""
from __future__ import annotations

import json
import re

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


def test_results_carry_their_provenance(mhc_run):
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
    assert rec["participants_enrolled"]["value"] == 990


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
