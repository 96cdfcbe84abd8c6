"""The one publishing gate: the Recorder perturbs person counts, rounds statistics, keeps the unprotected numbers
private, and the HTML report shows only what the Recorder displayed."""
from __future__ import annotations

import json
import stat

import nbformat
import numpy as np
import pandas as pd
import pytest

from evaluation.publish import perturbation as pt
from evaluation.publish import report, report_html

KEY = b"test-perturbation-key-0123456789"


def _people(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"participant_id": [f"p{i:05d}" for i in range(n)],
                         "district": rng.choice(["d1", "d2", "d3"], n, p=[0.6, 0.39, 0.01]),
                         "arm": rng.choice(["band_issued", "own_device"], n)})


def test_person_counts_are_perturbed_consistently_and_raw_values_stay_private(tmp_path):
    people = _people()
    rec = report.Recorder(tmp_path, notebook="nb", key=KEY)
    with pytest.raises(ValueError, match="members="):
        rec.result("enrolled", 400, unit="persons")
    small = people[people["district"] == "d3"]["participant_id"]
    assert 1 <= len(small) < 10
    published = rec.result("enrolled_d3", unit="persons", members=small)
    assert published in (0, 10)
    total = rec.result("enrolled", unit="persons", members=people["participant_id"])
    table = rec.counts("by_district_arm", people, ["district", "arm"])
    assert abs(total - len(people)) <= pt.MAX_NOISE
    # a table's margins are the sums of its published cells (a margin on its own key beside a small cell gave
    # the cell away), so they may differ from a headline count of the same people by a few
    cells = table[~table["margin"]]
    assert table.loc[table["district"].isna() & table["arm"].isna(), "participants"].item() == cells["participants"].sum()
    d3 = table.loc[(table["district"] == "d3") & table["arm"].isna(), "participants"].item()
    assert d3 == cells.loc[cells["district"] == "d3", "participants"].sum() and d3 % 10 == 0
    assert not table["participants"].between(1, 9).any()
    saved = json.loads((tmp_path / "results" / "nb.json").read_text())
    assert saved["enrolled_d3"]["value"] == published and saved["enrolled_d3"]["perturbed"] is True
    private = tmp_path / "private"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    raw = json.loads((private / "nb.results.json").read_text())
    assert raw["enrolled_d3"]["value"] == len(small)
    assert report.is_perturbed(tmp_path / "tables" / "by_district_arm.parquet")


def test_a_stats_table_whose_n_the_gate_perturbed_is_marked_perturbed(tmp_path):
    # read as exact, its n would "give away" the perturbed count of the same people elsewhere (audit notes)
    rec = report.Recorder(tmp_path, notebook="nb", key=KEY)
    df = pd.DataFrame({"group": ["a", "b"], "mean": [1.234, 5.678], "n": [0, 0]})
    members = [[f"a{i}" for i in range(40)], [f"b{i}" for i in range(60)]]
    rec.stats_table("with_members", df, {"mean": "mean"}, members=members)
    rec.stats_table("given_n", df.assign(n=[40, 60]), {"mean": "mean"})
    rec.stats_table("n_left_out", df, {"mean": "mean"}, members=members, publish_n=False)
    assert report.is_perturbed(tmp_path / "tables" / "with_members.parquet")
    assert not report.is_perturbed(tmp_path / "tables" / "given_n.parquet")
    assert not report.is_perturbed(tmp_path / "tables" / "n_left_out.parquet")


def test_statistics_need_enough_people_and_are_rounded(tmp_path):
    rec = report.Recorder(tmp_path, notebook="nb", key=KEY)
    with pytest.raises(ValueError, match="needs n="):
        rec.result("share", 0.4, unit="share", kind="share")
    assert rec.result("share_small", 0.4, unit="share", kind="share", n=12) is None
    assert rec.result("share_mid", 0.43219, unit="share", kind="share", n=40, ci=(0.3123, 0.5531)) == 0.43
    assert rec.results["share_mid"]["ci"] == [0.31, 0.55]
    assert rec.result("mean_big", 7345.678, unit="steps/day", kind="mean", n=2000, ci=(7001.2, 7690.9)) == 7350
    assert rec.results["mean_big"]["ci"] == [7000, 7690]
    assert "ci" not in rec.results["share_small"]
    # with the ids, n is the cell's published count
    ids = [f"p{i}" for i in range(11)]
    n11 = pt.perturbed_total(ids, key=KEY)
    got = rec.result("share_ids", 0.5, unit="share", kind="share", members=ids)
    assert got == (None if n11 < 13 else 0.5)


def test_tables_refuse_reason_columns_and_small_counts(tmp_path):
    rec = report.Recorder(tmp_path, notebook="nb", key=KEY)
    with pytest.raises(ValueError, match="reason"):
        rec.table("t", pd.DataFrame({"district": ["a"], "n": [np.nan], "reason": ["primary"]}))
    with pytest.raises(ValueError, match=r"column 'n', row 1: a person count below 10"):
        rec.table("t", pd.DataFrame({"district": ["a", "b"], "n": [25, 3]}))
    assert not (tmp_path / "tables" / "t.parquet").exists()
    rec.table("t", pd.DataFrame({"district": ["a", "b"], "n": [25, 0]}))  # zeros are listed, not withheld


def test_prose_is_written_from_protected_values_only(tmp_path):
    people = _people()
    rec = report.Recorder(tmp_path, notebook="nb", key=KEY)
    rec.result("matched", unit="persons", members=people["participant_id"][:9])
    rec.result("enrolled", unit="persons", members=people["participant_id"])
    rec.result("share_small", 0.4, unit="share", kind="share", n=5)
    text = rec.say("등록자 {enrolled:,}명, 매칭 {matched}명, 비율 {share_small:.0%}", "")
    assert text.startswith(f"등록자 {rec.results['enrolled']['value']:,}명")
    assert "매칭 9명" not in text and text.split("매칭 ")[1].split("명")[0] in ("0", "10")
    assert "비율 x" in text  # withheld statistic
    with pytest.raises(TypeError, match="is a number"):
        rec.say("매칭 {n}명", n=9)
    with pytest.raises(KeyError, match="not a recorded result"):
        rec.say("{unrecorded}")


def _cell(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source)


def test_notebook_cannot_print_a_number_or_write_a_table_around_the_gate(tmp_path, kernel_name):
    """Executed for real: what a notebook prints or displays itself never reaches the report; a table written
    past the Recorder is found by :func:`report.ungated` (the run refuses to publish it)."""
    import papermill as pm

    out = tmp_path / "run"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 보고서 / report"),
        _cell(f"from evaluation.publish import report\nimport pandas as pd\n"
              f"rec = report.Recorder({str(out)!r}, notebook='t', key=b'test-perturbation-key-0123456789')"),
        _cell("print('participants in the matched analysis: 9')"),
        _cell("pd.DataFrame({'district': ['a'], 'n': [7]})"),
        _cell("ids = [f'p{i}' for i in range(400)]\nrec.result('enrolled', unit='persons', members=ids)\n"
              "rec.say('등록자 {enrolled:,}명이 참여했습니다.')"),
        _cell("pd.DataFrame({'district': ['a'], 'n': [3]}).to_parquet(rec.output_dir / 'tables' / 'sneaky.parquet')"),
        _cell("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.bar([0], [7])\n"
              "rec.figure('ok', fig, data='illustrative')\nfig2, ax2 = plt.subplots()\nax2.bar([0], [3])\nfig2.savefig(rec.output_dir / 'figures' / 'sneaky.png')"),
    ]
    src = tmp_path / "t.ipynb"
    nbformat.write(nb, str(src))
    executed = tmp_path / "executed.ipynb"
    pm.execute_notebook(str(src), str(executed), kernel_name=kernel_name, progress_bar=False, cwd=str(tmp_path))
    html_path = tmp_path / "t.html"
    report_html.render(executed, html_path, title="t", lang="ko")
    page = html_path.read_text(encoding="utf-8")
    published = json.loads((out / "results" / "t.json").read_text())["enrolled"]["value"]
    assert f"등록자 {published:,}명이 참여했습니다." in page
    assert "matched analysis: 9" not in page  # print output stays in the private executed notebook
    assert "<td>7</td>" not in page  # so does a DataFrame the notebook displayed itself
    assert report_html.notice("ko") in page
    assert page.count("<img") == 1  # the recorded figure only
    executed_text = executed.read_text(encoding="utf-8")
    assert "matched analysis: 9" in executed_text  # (the test would pass vacuously if the cell had not run)
    assert sorted(report.ungated(out)) == ["figures/sneaky.png", "tables/sneaky.parquet"]


def test_gate_approved_keeps_only_marked_outputs():
    nb = nbformat.v4.new_notebook()
    cell = _cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="7 people\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "7"}, execution_count=1),
                    nbformat.v4.new_output("display_data", data={"text/markdown": "ok"}, metadata=report.GATE_METADATA)]
    nb.cells = [cell]
    kept = report_html.gate_approved(nb).cells[0].outputs
    assert [o["output_type"] for o in kept] == ["display_data"]
