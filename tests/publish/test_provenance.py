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


SEEDS = __import__("pathlib").Path(__file__).resolve().parents[3] / "shared" / "seeds"


def test_seed_provenance_names_the_document_by_its_title_not_its_file():
    p = provenance.seed("002_48a4b0b22932d2c8.txt", "2 예산 설명 / budget explanation", 2023)
    ko, en = p.text("ko"), p.text("en")
    assert "2023 서울시 예산서: 서울형 헬스케어 시스템 구축 운영" in ko and "2 예산 설명" in ko and ".txt" not in ko
    assert "Seoul 2023 budget book" in en and "budget explanation" in en and ".txt" not in en
    assert "예산" not in en  # the English side carries no Korean table name
    # details stored by older runs (file name, ledger source strings) read as titles too
    old = Provenance("seed", "002_48a4b0b22932d2c8.txt | 2 예산 설명 > 산출근거")
    assert old.detail_text("ko").startswith("2023 서울시 예산서") and ".txt" not in old.badge("ko")
    both = provenance.combine(p, provenance.synthetic())
    assert ".txt" not in both.text("ko") and "2023 서울시 예산서" in both.text("ko")
    assert "Seoul 2023 budget book" in both.text("en") and "합성" not in both.text("en")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed documents (shared/seeds) not on this machine")
def test_every_seed_has_a_title_found_in_its_own_text():
    # the distinctive part of each Korean title must be printed in the document itself
    phrases = {"002_48a4b0b22932d2c8.txt": ["서울형 헬스케어 시스템 구축 운영", "2023"],
               "003_f01fdccc24810ea1.txt": ["ICT 기반의 스마트 건강관리 플랫폼 운영", "일산동구보건소", "공약"],
               "004_8d32c820dded188b.txt": ["공공보건의료재단", "2022년 주요업무"]}
    files = sorted(p.name for p in SEEDS.glob("*.txt"))
    assert files and set(files) <= set(provenance.SEED_TITLES), set(files) - set(provenance.SEED_TITLES)
    for name in files:
        text = (SEEDS / name).read_text(encoding="utf-8")
        title = provenance.seed_title(name, "ko")
        for phrase in phrases[name]:
            assert phrase in title and phrase in text, (name, phrase)
