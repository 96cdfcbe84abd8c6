"""Tables marked perturbed (Parquet metadata) are read the way the published method says: a printed 0 stands
for 0-9, 10 for 1-12, v >= 12 for v-2..v+2. Each count is a target, exposed only when pinned beyond that window."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evaluation.publish import attack_lp, attacks
from evaluation.publish.report import PERTURBED_KEY


def write(root: Path, name: str, df: pd.DataFrame, results: dict | None = None) -> Path:
    run = root / "run"
    (run / "tables").mkdir(parents=True)
    (run / "reports").mkdir()
    t = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(t.replace_schema_metadata({**(t.schema.metadata or {}), PERTURBED_KEY: b"true"}),
                   run / "tables" / f"{name}.parquet")
    (run / "results.json").write_text(json.dumps(results or {}), encoding="utf-8")
    return run


def test_perturbed_range_is_the_published_method():
    assert attack_lp.perturbed_range(0) == (0, 9)
    assert attack_lp.perturbed_range(10) == (1, 12)
    assert attack_lp.perturbed_range(11) == (10, 13)
    assert attack_lp.perturbed_range(40) == (38, 42)


def test_a_margin_published_zero_pins_a_cell_published_ten(tmp_path):
    """District 11110: band-issued 3 people (published 10), own-device 4 (published 0), margin 7 (published 0).
    The cell printed 10 has someone (>= 1) and is part of a margin of at most 9: [1, 9]."""
    t = pd.DataFrame({"district": ["11110", "11110", "11110", "11140", "11140", "11140"],
                      "arm": ["band_issued", "own_device", None, "band_issued", "own_device", None],
                      "participants": [10, 0, 0, 40, 25, 66], "margin": [False, False, True, False, False, True]})
    rep = attacks.audit_run(write(tmp_path, "enrolment_by_district_arm", t))
    cell = rep.table[rep.table["cell"].str.contains("arm=band_issued, district=11110")]
    assert len(cell) == 1 and (cell.iloc[0]["low"], cell.iloc[0]["high"]) == (1, 9), rep.table.to_string()
    assert cell.iloc[0]["low"] <= 3 <= cell.iloc[0]["high"]


def test_consistent_perturbed_margins_expose_nothing(tmp_path):
    """The same table with a margin published 10: nothing is recovered. (The headline 76 minus the other district's
    66 narrows district 11110 to 6..12 people -- the method's documented limit, noise of at most +-2 on each count --
    but 10 to 12 stays possible, so no small count is given away.)"""
    t = pd.DataFrame({"district": ["11110", "11110", "11110", "11140", "11140", "11140"],
                      "arm": ["band_issued", "own_device", None, "band_issued", "own_device", None],
                      "participants": [10, 0, 10, 40, 25, 66], "margin": [False, False, True, False, False, True]})
    rep = attacks.audit_run(write(tmp_path, "enrolment_by_district_arm", t,
                                  {"10_cohort_overview": {"participants_total": {"value": 76, "unit": "persons",
                                                                                  "perturbed": True}}}))
    assert not rep.exposed, rep.table.to_string()
    assert not any("not solved" in n for n in rep.notes), rep.notes


def test_a_share_of_true_counts_undoes_the_perturbation(tmp_path):
    """Weekly active people published perturbed (31 for a true 32) beside a share of the true counts rounded to
    3 decimals (0.098 = 32/326) over the perturbed enrolled (326, true 324..328): every size gives 32 active."""
    t = pd.DataFrame({"week": pd.to_datetime(["2023-04-24", "2023-05-01"]), "active": [31, 31],
                      "enrolled": [326, 326], "active_share": [0.098, 0.098]})
    rep = attacks.audit_run(write(tmp_path, "weekly_active", t))
    d = rep.table[rep.table["cell"].str.endswith(": active")]
    assert len(d) == 2 and (d["low"] == 32).all() and (d["high"] == 32).all(), rep.table.to_string()
    # the share of the published counts (31 / 326 = 0.095), as the gate's share_of computes it: nothing exact
    t["active_share"] = 0.095
    tmp2 = tmp_path / "b"
    assert not attacks.audit_run(write(tmp2, "weekly_active", t)).exposed


def test_perturbed_tables_of_the_same_people_are_linked(tmp_path):
    """District x arm (all people) and district x sex (the enrolled: band-issued and own-device) are linked because
    only that subset of arms fits both tables' windows (district 11140's 60 enrolled = 40 + 20). District 11110 has
    6 band-issued (published 10), 2 own-device (0), 3 comparison (0); its 8 enrolled are published 0 in every
    sex cell and margin: band-issued + own-device <= 9, so the band-issued cell printed 10 holds 1 to 9."""
    arm = pd.DataFrame({"district": ["11110"] * 4 + ["11140"] * 4,
                        "arm": ["band_issued", "own_device", "comparison", None] * 2,
                        "participants": [10, 0, 0, 10, 41, 19, 30, 91],
                        "margin": [False, False, False, True] * 2})
    sex = pd.DataFrame({"district": ["11110"] * 3 + ["11140"] * 3, "sex": ["F", "M", None] * 2,
                        "enrolled": [0, 0, 0, 29, 31, 60], "margin": [False, False, True] * 2})
    run = write(tmp_path, "enrolment_by_district_arm", arm)
    t = pa.Table.from_pandas(sex, preserve_index=False)
    pq.write_table(t.replace_schema_metadata({**(t.schema.metadata or {}), PERTURBED_KEY: b"true"}),
                   run / "tables" / "enrolment_by_district.parquet")
    rep = attacks.audit_run(run)
    cell = rep.table[rep.table["cell"].str.contains("arm=band_issued, district=11110")]
    assert len(cell) == 1 and (cell.iloc[0]["low"], cell.iloc[0]["high"]) == (1, 9), rep.table.to_string()
    # the district x arm table alone bounds it only by its own window
    alone = attacks.audit_run(write(tmp_path / "alone", "enrolment_by_district_arm", arm))
    assert not alone.table["cell"].str.contains("arm=band_issued, district=11110").any()
