"""HTML reports staff can read: a real title per report and an index page for the run.

``reports/index.html`` says what to read first, shows the headline numbers with their provenance and
lists the caveats (synthetic data, illustrative models, withheld small cells). Reports are rendered
without code by nbconvert; only the page title and the index are ours.
"""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from . import glossary
from .provenance import EXPLAIN, Provenance, read_context
from .staff_table import format_value

# (notebook, Korean title, English title, why to read it); the order is the suggested reading order
READING_ORDER: list[tuple[str, str, str, str, str]] = [
    ("40_effectiveness", "사업 효과", "Does the programme work?",
     "걸음 수와 건강 위험요인이 사업 때문에 얼마나 달라졌는지 (비교군 대비).",
     "How much steps and risk factors changed because of the programme (against a comparison group)."),
    ("50_cost_effectiveness", "예산과 비용-효과", "Budget and cost-effectiveness",
     "예산, 1인당 비용, 비용-효과 분석 (장기 모형은 예시).",
     "Budget, cost per participant and per outcome, cost-effectiveness (the long-term model is illustrative)."),
    ("60_district_equity", "자치구 건강형평성", "Health equity across districts",
     "25개 자치구 간 격차와 사업 전후 격차 변화.", "Gaps between the 25 districts and whether the programme narrowed them."),
    ("10_cohort_overview", "참여자 현황", "Who took part",
     "등록 규모, 자치구·성별·연령 구성.", "Enrolment, districts, sex and age."),
    ("30_cohort_engagement", "참여와 유지", "Engagement and retention",
     "주별 활동, 유지율, 착용률.", "Weekly activity, retention and wear."),
    ("70_mhc_reported", "보고된 성과와 비용 (모바일 헬스케어)", "Reported results and costs (mobile healthcare)",
     "보건소가 보고한 개선율을 전국 비율과 검정하고, 집행액으로 1인당 비용을 계산합니다.",
     "The centre's reported rates tested against the national ones; executed cost per participant and per person improved."),
    ("71_mhc_records", "참여자 기록으로 본 성과 (모바일 헬스케어)", "Results from participant records (mobile healthcare)",
     "기록으로 다시 계산한 성과지표와 비교군(대기자) 대비 차이.", "KPIs recomputed from the records, and the difference from the waiting list."),
    ("20_signal_quality", "웨어러블 자료 품질 (기술)", "Wearable data quality (technical)",
     "분 단위 자료의 정제 결과와 품질 지표.", "Cleaning of the minute data and quality checks."),
]

HEADLINES: list[str] = [
    "participants_enrolled", "retention_24w", "mean_daily_steps", "att_steps", "budget_total_krw",
    "cost_per_participant_krw", "prob_cost_effective_at_wtp", "official_all_cause_mortality_bgv",
    # the mobile-healthcare programme (notebooks 70 and 71)
    "reported_risk_rate", "national_risk_rate", "reported_behaviour_rate", "national_behaviour_rate",
    "cost_per_participant_2023_krw", "cost_per_participant_2022h2_2024_krw",
    "cost_per_risk_reduced_2022h2_2024_krw", "cost_per_behaviour_improved_2022h2_2024_krw",
    "kpi_risk_reduction_share", "kpi_behaviour_improvement_share", "kpi_risk_reduction_difference",
    "kpi_behaviour_improvement_difference",
]
"""Headline keys shown on the index, in this order, when the run has them."""


def run_label(run_id: str) -> str:
    """A run as staff read it: its date and time (``2026-12-02 23:47``, Seoul time), not the folder id."""
    import datetime as dt

    try:
        when = dt.datetime.strptime(run_id.split("-")[0][:15], "%Y%m%dT%H%M%S")
    except ValueError:
        return run_id
    return when.strftime("%Y-%m-%d %H:%M")


def title_for(notebook: str, lang: str = "ko") -> str:
    """The report title of a notebook (its stem when it is not one of the evaluation notebooks)."""
    for name, ko, en, _, _ in READING_ORDER:
        if name == notebook:
            return ko if lang == "ko" else en
    return notebook


REPORT_CSS = """<style>
body, .jp-RenderedHTMLCommon, .jp-RenderedMarkdown {font-family:'NanumGothic','Noto Sans KR',sans-serif}
.jp-RenderedHTMLCommon table.ev-table {word-break:keep-all;font-size:13px;margin:6px 0 12px}
.jp-RenderedHTMLCommon table.ev-table th {white-space:nowrap;background:#f3f4f6}
.jp-RenderedHTMLCommon table.ev-table td {max-width:38em}
.ev-say {font-size:15px;line-height:1.6;margin:6px 0}
</style>"""
"""Report typography: Hangul wraps between words, never one syllable per line; headers stay on one line."""


def staff_outputs(nb: Any) -> Any:
    """The notebook as staff read it: warnings (stderr) and echoed plain-text values are for researchers and
    stay in the executed notebook; any remaining printed line becomes a paragraph of text, not monospace
    console output. Tables (HTML), figures and Markdown pass unchanged."""
    import nbformat

    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                if out.get("name") == "stderr":
                    continue
                text = "".join(out.get("text", "")).strip()
                if not text:
                    continue
                paras = "".join(f"<p class='ev-say'>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
                kept.append(nbformat.v4.new_output("display_data", data={"text/html": paras}))
            elif out.get("output_type") == "execute_result" and set(out.get("data", {})) <= {"text/plain"}:
                continue  # a cell's last value echoed as console text (e.g. what rec.result returns)
            else:
                kept.append(out)
        cell["outputs"] = kept
    return nb


def gate_approved(nb: Any) -> Any:
    """The notebook with only gate-approved outputs: those the Recorder displayed (:meth:`Recorder.say`,
    :meth:`~Recorder.show`, :meth:`~Recorder.figure`, marked in the output metadata). ``print`` output, bare
    DataFrames and inline figures are computed from unprotected numbers: they stay in the private executed
    notebook and never reach a report. Markdown cells (the notebook's narrative) are kept."""
    from .report import GATE_METADATA

    mark = next(iter(GATE_METADATA))
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = [o for o in cell.get("outputs", [])
                           if o.get("output_type") in ("display_data", "execute_result")
                           and (o.get("metadata") or {}).get(mark, {}).get("gate") is True]
    return nb


def render(executed: str | Path, target: str | Path, *, title: str, lang: str = "ko") -> None:
    """Executed notebook -> HTML without code or prompts, with ``title`` as the page title, showing only
    gate-approved outputs (:func:`gate_approved`) under the one-line perturbation notice."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    nb = gate_approved(staff_outputs(nbformat.read(str(executed), as_version=4)))
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"*{html.escape(notice(lang))}*"))
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    Path(target).write_text(body.replace("</head>", REPORT_CSS + "\n</head>", 1), encoding="utf-8")


def notice(lang: str = "ko") -> str:
    """The one line every report and dashboard shows about perturbation (Korean first)."""
    from . import i18n

    return i18n.t("perturbation_notice", lang)


def _headline_rows(results: dict[str, dict[str, Any]], lang: str) -> list[str]:
    flat: dict[str, dict[str, Any]] = {}
    for entries in results.values():
        flat.update(entries)
    rows = []
    for key in HEADLINES:
        e = flat.get(key)
        if not e or e.get("value") is None:
            continue
        unit = e.get("unit", "")
        u = "share" if unit in ("share", "proportion", "probability") else ("KRW" if unit.upper().startswith("KRW") else "")
        value = format_value(e["value"], u, lang)
        ci = e.get("ci")
        if ci and None not in ci:
            value += f" <small>(95% CI {format_value(ci[0], u, lang)} – {format_value(ci[1], u, lang)})</small>"
        prov = Provenance.coerce(e["provenance"]) if e.get("provenance") else None
        label = html.escape(e.get(f"label_{lang}") or e.get("label") or key)
        rows.append(f"<tr><td>{label}</td><td style='text-align:right'>{value}</td>"
                    f"<td>{prov.badge(lang) if prov else ''} <small>{html.escape(prov.detail_text(lang)) if prov else ''}</small></td></tr>")
    return rows


def write_index(run_dir: str | Path, *, title: str = "", lang: str = "ko") -> Path:
    """Write ``reports/index.html`` for a run folder (results.json and reports/ must exist)."""
    run_dir = Path(run_dir)
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8")) if (run_dir / "results.json").exists() else {}
    ctx = read_context(run_dir)
    ko = lang == "ko"
    heading = html.escape(title or ctx.get("title") or ctx.get("programme", ""))
    kinds = {e.get("provenance", {}).get("kind") for entries in results.values() for e in entries.values()}
    caveats = []
    if ctx.get("data_kind", "synthetic") != "programme" or "synthetic" in kinds:
        caveats.append(EXPLAIN["synthetic"][lang])
    if "illustrative" in kinds:
        caveats.append(EXPLAIN["illustrative"][lang])
    caveats.insert(0, notice(lang))
    caveats.append(glossary.term("suppressed", lang)[1])
    reading = []
    for name, t_ko, t_en, why_ko, why_en in READING_ORDER:
        if (run_dir / "reports" / f"{name}.html").exists():
            reading.append(f"<li><a href='{name}.html'>{html.escape(t_ko if ko else t_en)}</a> — {html.escape(why_ko if ko else why_en)}</li>")
    known = {n for n, *_ in READING_ORDER}
    for extra in sorted((run_dir / "reports").glob("*.html")):
        if extra.stem not in known and extra.stem != "index":
            reading.append(f"<li><a href='{extra.name}'>{html.escape(extra.stem)}</a></li>")
    when = run_label(ctx.get("run_id", ""))
    text = {
        "read": "먼저 읽을 보고서" if ko else "What to read first",
        "head": "주요 수치" if ko else "Headline numbers",
        "cav": "주의 사항" if ko else "Caveats",
        "col": ("항목", "값", "출처") if ko else ("Measure", "Value", "Source"),
        "run": "평가 실행" if ko else "Run",
    }
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{heading}</title>
<style>body{{font-family:'NanumGothic','Noto Sans KR',sans-serif;max-width:980px;margin:24px auto;padding:0 16px;color:#1f2328}}
table{{border-collapse:collapse}} td,th{{padding:4px 10px;border-bottom:1px solid #e5e7eb}} .cav{{background:#fff4e5;padding:8px 14px;border-radius:8px}}</style>
</head><body>
<h1>{heading}</h1>
<p>{text['run']}: {html.escape(when)}</p>
<div class="cav"><h2>{text['cav']}</h2><ul>{''.join(f'<li>{html.escape(c)}</li>' for c in caveats)}</ul></div>
<h2>{text['read']}</h2><ol>{''.join(reading)}</ol>
<h2>{text['head']}</h2>
<table><tr><th>{text['col'][0]}</th><th>{text['col'][1]}</th><th>{text['col'][2]}</th></tr>{''.join(_headline_rows(results, lang))}</table>
</body></html>
"""
    path = run_dir / "reports" / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
