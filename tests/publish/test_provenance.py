"""Every number staff see says where it comes from (seed, official, programme, synthetic, illustrative)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from evaluation.publish import provenance, report
from evaluation.publish.provenance import Provenance


def test_kinds_are_checked_and_sources_required():
    with pytest.raises(ValueError, match="not one of"):
        Provenance("official_statistics")
    with pytest.raises(ValueError, match="needs a detail"):
        Provenance("seed")
    p = provenance.official("통계청 KOSIS / Statistics Korea (KOSIS)", 2020)
    assert p.text("ko").startswith("출처: 공식 통계") and "Statistics Korea" in p.text("en")
    assert "data-provenance='official'" in p.badge("en")
    assert Provenance.coerce(p.to_dict()) == p


def test_recorder_defaults_to_synthetic_without_a_run_context(tmp_path):
    """A notebook run by hand on the committed samples must not present them as programme data."""
    rec = report.Recorder(tmp_path, notebook="x")
    rec.result("n", unit="persons", members=[f"p{i}" for i in range(25)])
    rec.table("t", pd.DataFrame({"a": [1]}))
    entry = json.loads((tmp_path / "results" / "x.json").read_text())["n"]
    assert entry["provenance"]["kind"] == "synthetic"
    assert provenance.of_table(tmp_path / "tables" / "t.parquet").kind == "synthetic"


def test_run_context_sets_programme_provenance_and_explicit_sources_win(tmp_path):
    provenance.write_context(tmp_path, programme_id="p", run_id="r1", title="손목닥터", data_kind="programme",
                             period="2023-01 ~ 2023-06")
    rec = report.Recorder(tmp_path, notebook="x")
    rec.result("n", 5)
    rec.result("budget", 1, provenance=provenance.seed("002_48a4b0b22932d2c8.txt", "예산 총괄", 2023))
    res = json.loads((tmp_path / "results" / "x.json").read_text())
    assert res["n"]["provenance"]["kind"] == "programme" and "2023-01" in res["n"]["provenance"]["detail"]
    assert res["budget"]["provenance"]["kind"] == "seed"


def test_rows_give_their_provenance():
    synth = pd.DataFrame({"source": ["synthetic (illustrative, not official statistics)"] * 2})
    assert provenance.of_rows(synth).kind == "synthetic"
    with pytest.raises(ValueError, match="cannot tell"):
        provenance.of_rows(pd.DataFrame({"source": ["some report"]}))
    mixed = pd.DataFrame({"provenance": ["official", "synthetic"], "source": ["a", "b"]})
    with pytest.raises(ValueError, match="2 provenance kinds"):
        provenance.of_rows(mixed)


@pytest.mark.notebook
def test_every_result_and_table_of_the_demo_run_carries_provenance(demo_run):
    """Walk the run staff see: every headline number and every stored table names its source kind."""
    run_dir = demo_run.run_dir
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    missing = [f"{nb}.{k}" for nb, entries in results.items() for k, e in entries.items()
               if e.get("provenance", {}).get("kind") not in provenance.KINDS]
    assert not missing, missing
    no_meta = [p.name for p in (run_dir / "tables").glob("*.parquet") if provenance.of_table(p) is None]
    assert not no_meta, no_meta
    kinds = {k: e["provenance"]["kind"] for entries in results.values() for k, e in entries.items()}
    # the demo's participants are synthetic: nothing computed from them may be labelled programme data
    assert "programme" not in kinds.values()
    assert kinds.get("official_all_cause_mortality_bgv") == "official"


@pytest.mark.notebook
def test_reports_are_readable_by_staff(demo_run):
    """An index page, real titles, staff tables, and no object reprs or raw NaN in the reports."""
    import re

    reports = demo_run.run_dir / "reports"
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "먼저 읽을 보고서" in index and "data-provenance=" in index
    assert "합성" in index  # the demo's data are synthetic and the index says so first
    for page in reports.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "PosixPath(" not in text, page.name
        assert "<title>Notebook</title>" not in text, page.name
        for table in re.findall(r"<table[^>]*ev-table.*?</table>", text, flags=re.S):
            assert ">NaN<" not in table and "e+0" not in table, page.name
