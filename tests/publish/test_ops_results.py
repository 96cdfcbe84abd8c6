"""results.json as staff and dashboards read it: a Korean and an English label for every value, rounded by unit."""
from __future__ import annotations

import json
import math
import re

import pytest

from evaluation.publish import report
from evaluation.publish.result_labels import decimals_for, labels_for, publish_entry, round_value

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1.1920928955078125e-07, "KRW/person", 0),       # the float noise: no won at all
        (44997.57727272727, "KRW/person", 44998),
        (9899467000, "KRW", 9899467000),
        (612.0, "persons", 612),
        (0.7238562091503268, "share", 0.7239),
        (0.9999906760486337, "share", 1.0),
        (0.19641034151542125, "share of recorded minutes", 0.1964),
        (0.9150406957297358, "proportion", 0.915),
        (7602.030267880293, "steps/day", 7602.0),
        (25.441816782307193, "%", 25.44),
        (17.736093, "(%p)^2", 17.736),
        (-2.4619756147106386, "mmHg", -2.46),
        (1.603395042317191, "risk ratio", 1.603),
        (0.013774629422531603, "QALY/person", 0.01377),
        (0.1 + 0.2, "units", 0.3),                         # unknown unit: 6 significant digits
        (1.234567891e-9, "", 1.23457e-9),
        (-0.00001, "share", 0.0),
        (None, "share", None), ("dominant", "", "dominant"), (float("nan"), "share", float("nan")), (True, "", True),
    ],
)
def test_rounding_by_unit(value, unit, expected):
    got = round_value(value, unit)
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected and type(got) is type(expected)


def test_every_unit_the_demo_uses_has_a_rule():
    for unit in ("persons", "rows", "person-days", "minutes", "minutes/day", "share", "share of recorded minutes",
                 "steps/day", "%", "mmHg", "risk ratio", "KRW", "KRW/person", "KRW/QALY", "proportion",
                 "QALY/person", "probability", "(%p)^2", "%p"):
        assert decimals_for(unit) is not None, unit


def test_labels_fill_both_languages_and_keep_the_notebooks_own():
    assert labels_for("completion_rate") == ("완료율", "Completion rate")
    assert labels_for("bgsd", "걷기 실천율(%) BGSD 2023") == ("걷기 실천율(%) BGSD 2023", "Between-group standard deviation (BGSD)")
    assert labels_for("att_sbp_psm") == ("참여 효과: 수축기 혈압 (PSM)", "Programme effect on systolic blood pressure (PSM)")
    assert labels_for("gap_change_income_sii")[1] == "Change in the income gap (SII, after - before)"
    ko, en = labels_for("something_new")
    assert ko and en == "something new"  # never empty
    entry = publish_entry("evpi_krw_per_person", {"value": 1.19e-07, "unit": "KRW/person", "label": "", "ci": [0.5, 2.5]}, "en")
    assert entry == {"value": 0, "unit": "KRW/person", "ci": [0, 2],
                     "label": "Expected value of perfect information per person (Markov)",
                     "label_ko": "완전정보의 기대가치 (1인당, 마르코프)",
                     "label_en": "Expected value of perfect information per person (Markov)"}


@pytest.mark.notebook
def test_demo_results_have_two_labels_and_no_float_noise(demo_run):
    results = report.load_results(demo_run.run_dir)
    raw = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (demo_run.run_dir / "results").glob("*.json")}
    assert results.keys() == raw.keys()
    problems = []
    for nb, entries in results.items():
        for key, e in entries.items():
            if not (HANGUL.search(e["label_ko"]) and e["label_en"] and not HANGUL.search(e["label_en"])):
                problems.append(f"{nb}.{key}: labels {e['label_ko']!r} / {e['label_en']!r}")
            for v in [e["value"], *(e.get("ci") or [])]:
                if isinstance(v, float) and math.isfinite(v) and v != 0 and len(repr(abs(v)).replace(".", "").strip("0")) > 7:
                    problems.append(f"{nb}.{key}: unrounded {v!r} ({e['unit']})")
            assert e["value"] == round_value(raw[nb][key]["value"], e["unit"])  # rounded, not recomputed
    assert not problems, "\n".join(problems)
