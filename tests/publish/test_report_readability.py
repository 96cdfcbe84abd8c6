"""Reports read like reports (issue 23): staff tables with Korean headers and units, sentences as text,
Hangul that wraps between words, no console output or warnings in the HTML."""
from __future__ import annotations

import re

import nbformat
import pandas as pd
import pytest

from evaluation.publish import report_html, staff_table

RAW_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")  # snake_case: a column or code name, not a header


def _headers(html_text: str) -> list[str]:
    import html

    return [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", html_text)]


@pytest.fixture(scope="module")
def kpi():
    from evaluation import effects

    people = pd.read_parquet(__import__("pathlib").Path(__file__).resolve().parents[2] / "data_samples" / "participants.parquet")
    return effects.kpis(people, benchmarks={"behaviour_improvement": 0.552, "risk_reduction": 0.585}, min_n=10,
                        verbose=False)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_kpi_and_checks_tables_have_staff_headers_and_units(kpi, lang):
    from evaluation import effects

    cols = ["indicator", "week", "n", "count", "share", "ci_low", "ci_high", "benchmark", "pvalue", "n_undetermined"]
    html_text = staff_table.to_html(kpi.summary()[cols], lang)
    heads = _headers(html_text)
    assert len(heads) == len(cols) and not [h for h in heads if RAW_NAME.match(h) or h in ("count", "benchmark", "z")]
    assert ("전국 기준값" in heads and "판정 불가 인원 (결측)" in heads) if lang == "ko" else "National benchmark" in heads
    for raw in ("eligible_at_baseline", "risk_reduction", "behaviour_improvement", "n_undetermined"):
        assert raw not in html_text
    assert "58.5%" in html_text  # the benchmark reads as the share it is, like the share and its CI
    assert not re.search(r"\d\.\d{4,}", html_text)  # no 82.000000 or 0.5601
    view = effects.diagnostics_view({"KPI": kpi}, lang=lang)
    checks = staff_table.to_html(view, lang, alert=(view.columns[4], "경고" if lang == "ko" else "WARNING"))
    assert "82.000000" not in checks and ">82<" in checks and "risk_reduction_w12" not in checks
    assert ("위험요인 개선 (12주)" if lang == "ko" else "Risk factor reduced (week 12)") in checks
    assert "color:#b00020" in checks  # failed checks stand out
    assert "word-break:keep-all" in checks  # Hangul breaks between words, never one syllable per line


def test_words_are_left_aligned_and_numbers_right_aligned():
    html_text = staff_table.to_html(pd.DataFrame({"verdict": ["통과"], "n": [82]}))
    table_id = re.search(r"<table id='([^']+)'", html_text).group(1)
    assert f"#{table_id} td:nth-child(1),#{table_id} th:nth-child(1){{text-align:left}}" in html_text
    assert "nth-child(2)" not in html_text


def test_report_html_shows_gate_outputs_as_text_and_drops_console_output(tmp_path):
    """Reports show what the gate displayed (Recorder.say/show/figure) and never console output: printed lines,
    warnings and echoed values stay in the private executed notebook (issue 20's gate, issue 23's readability)."""
    from evaluation.publish.report import GATE_METADATA

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="참여자 1,200명, 일별 기록 8,064행을 읽었습니다.\n"),
        nbformat.v4.new_output("stream", name="stderr", text="/tmp/ipykernel_1/1.py:3: EffectWarning: dropped rows\n"),
        nbformat.v4.new_output("display_data", data={"text/markdown": "**결론**: 효과가 있습니다."}, metadata=GATE_METADATA),
        nbformat.v4.new_output("display_data", data={"text/markdown": "**ungated**"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "612"}, execution_count=1),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# 사업 효과"), cell]
    src, out = tmp_path / "x.ipynb", tmp_path / "x.html"
    nbformat.write(nb, str(src))
    report_html.render(src, out, title="사업 효과")
    page = out.read_text(encoding="utf-8")
    assert "EffectWarning" not in page and "ipykernel" not in page
    assert "1,200명" not in page and "ungated" not in page and ">612<" not in page
    assert "<pre" not in page  # no console output in a monospace block (prints, echoed values)
    assert "<strong>결론</strong>" in page and "word-break:keep-all" in page


@pytest.mark.parametrize("name", ["10_cohort_overview", "20_signal_quality", "30_cohort_engagement",
                                  "40_effectiveness", "50_cost_effectiveness", "60_district_equity"])
def test_notebooks_speak_in_text_and_open_with_their_title(repo_root, name):
    nb = nbformat.read(str(repo_root / "notebooks" / f"{name}.ipynb"), as_version=4)
    # printed lines never reach a report (the gate keeps them in the private notebook): sentences staff read
    # are rec.say / rec.show; what is checked here is that the title opens the page and no Styler table is used
    # the title comes before any cell with output (the parameters cell, shown without code, has none)
    first = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", []))
    titles = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("# ")]
    assert titles and titles[0] < first, name
    assert not any(".style" in c.source for c in nb.cells if c.cell_type == "code")  # Styler prints 82.000000


@pytest.mark.notebook
def test_demo_reports_read_like_reports(demo_run):
    """Every report of the demo run: staff headers only, no console blocks or warnings, seeds by title."""
    reports = demo_run.run_dir / "reports"
    pages = sorted(reports.glob("*.html"))
    assert len(pages) == 7
    for page in pages:
        text = page.read_text(encoding="utf-8")
        raw = sorted({h for h in _headers(text) if RAW_NAME.match(h.strip())})
        assert not raw, (page.name, raw)
        assert "<pre" not in text and "Warning" not in text, page.name
        assert ".txt" not in text, page.name  # a seed is named by its title, never its file
        assert not re.search(r"<td[^>]*>-?\d+\.\d{5,}</td>", text), page.name  # no 82.000000 or 13.0739382
    effect = (reports / "40_effectiveness.html").read_text(encoding="utf-8")
    printed = effect.find("일별 기록")  # a printed line of the notebook: absent from the gated report
    assert printed == -1 or effect.index("사업 효과 평가") < printed
    assert "word-break:keep-all" in effect
