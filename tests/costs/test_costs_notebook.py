"""The cost-effectiveness notebook runs end to end on the committed samples and records its outputs."""
from __future__ import annotations


import pandas as pd
import pytest

NOTEBOOK = "notebooks/50_cost_effectiveness.ipynb"


@pytest.mark.notebook
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_cost_notebook_runs_and_records(repo_root, run_notebook, lang):
    import nbformat

    nb = nbformat.read(repo_root / NOTEBOOK, as_version=4)
    assert "parameters" in nb.cells[0].metadata.get("tags", [])
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    res, out, _ = run_notebook("50_cost_effectiveness", lang=lang, n_boot=300, n_psa=100)
    assert res["budget_total_krw"]["value"] == 9_899_467_000
    assert res["cost_per_participant_krw"]["value"] == pytest.approx(9_899_467_000 / 220_000)
    # each organisation's ledger on its own: the district ICT platform (seed 003) is not the smart-band programme
    assert "execution_rate" not in res
    assert res["execution_rate_district_ict"]["value"] == pytest.approx(820.7 / 896.9)
    assert res["execution_rate_district_ict"]["provenance"]["kind"] == "seed"
    assert res["band_supply_krw"]["value"] == 7_500_000_000  # the 스마트밴드 보급 line, not a typed constant
    # the Markov outputs are an illustrative model and say so
    for key in ("prob_cost_effective_at_wtp", "icer_quadrant", "icer_krw_per_qaly"):
        assert res[key]["provenance"]["kind"] == "illustrative", key
    assert res["budget_total_krw"]["provenance"]["kind"] == "seed"
    assert 0 <= res["prob_cost_effective_at_wtp"]["value"] <= 1
    assert res["icer_quadrant"]["value"] in {"dominant", "dominated", "NE", "SW"}
    for name in ("ledger_by_category", "execution_district_ict", "execution_foundation", "chronic_underexecution",
                 "ceac", "ce_plane_sample", "icer_table"):
        df = pd.read_parquet(out / "tables" / f"{name}.parquet")
        assert len(df) > 0 and "participant_id" not in df.columns, name
    plane = pd.read_parquet(out / "tables" / "ce_plane_sample.parquet")
    assert len(plane) == 2  # aggregated per strategy, no replicate or participant rows
    assert (out / "figures" / "tornado.png").exists() and (out / "figures" / "ce_plane.png").exists()
    # issue 20: the sample's numbers pass the gate first; per-person costs rest on the published shares only
    share = res["sample_share_completed"]["value"]
    assert share is not None and round(share, 3) == share
    assert res["cost_per_completer_krw"]["value"] == pytest.approx(9_899_467_000 / (220_000 * share), abs=1)
    assert res["sample_treated"]["perturbed"] is True
    from evaluation.publish import report

    counts = pd.read_parquet(out / "tables" / "mets_change_by_arm.parquet")
    assert report.is_perturbed(out / "tables" / "mets_change_by_arm.parquet")
    assert not counts["participants"].between(1, 9).any()
    # every figure declared its data: published tables, or a seed/illustrative provenance
    import json

    sources = json.loads((out / "private" / "50_cost_effectiveness.figure_data.json").read_text(encoding="utf-8"))
    assert sources["planned_vs_executed_district.png"] == ["provenance:seed"]
    assert sources["ce_plane.png"] == ["provenance:illustrative"]


@pytest.mark.notebook
def test_no_budget_figure_is_typed_into_the_cost_notebook(repo_root):
    """Inputs come from the ledgers, the params file or the documented model definition, not from cells."""
    import re

    import nbformat

    nb = nbformat.read(repo_root / NOTEBOOK, as_version=4)
    body = "\n".join(c.source for c in nb.cells[1:] if c.cell_type == "code")
    assert not re.search(r"\b\d{1,3}(_\d{3}){2,}\b", body), "a KRW amount is typed into a notebook cell"
    assert "p_mets" not in body and "Beta.from_mean_sd" not in body, "Markov inputs belong in costs.mets_model"
