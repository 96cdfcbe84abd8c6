"""The package layout: packages along the data flow, old module names still working with a warning."""
from __future__ import annotations

import importlib
import json
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "evaluation"


def test_at_most_four_loose_modules_and_no_package_named_build():
    loose = sorted(p.name for p in PKG.glob("*.py"))
    assert len(loose) <= 4, loose
    assert not (PKG / "build").exists()


def test_every_package_says_what_comes_in_and_goes_out():
    import evaluation

    for name in evaluation.PACKAGES:
        doc = importlib.import_module(f"evaluation.{name}").__doc__ or ""
        assert len(doc.strip()) > 40, name


@pytest.mark.parametrize("old, new, attr", [
    ("evaluation.report", "evaluation.publish.report", "Recorder"),
    ("evaluation.suppression", "evaluation.publish.suppression", "protect"),
    ("evaluation.build", "evaluation.store", "build_store"),
    ("evaluation.build._store", "evaluation.store._store", "Layout"),
    ("evaluation.params", "evaluation.runs.params", "load"),
    ("evaluation.districts", "evaluation.reference.districts", "names"),
])
def test_old_names_are_the_same_module_and_warn(old, new, attr):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(new) and hasattr(module, attr)
    assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)


def test_old_results_store_names_forward_with_a_warning():
    from evaluation import store
    from evaluation.publish import results_store

    with pytest.warns(DeprecationWarning, match="results_store"):
        assert store.query is results_store.query
    assert store.build_store  # the build store's own names do not warn


def test_notebooks_import_synth_only_in_the_demo_data_step_and_mets_criteria_live_once():
    for nb_path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert not re.search(r"(from evaluation import [^\n]*\bsynth\b|import evaluation\.synth|synth\.metabolic)",
                             code), nb_path.name
    defining = [p for p in PKG.rglob("*.py") if re.search(r">=\s*np\.where\(male, 90, 85\)|\(90\.0, 85\.0\)", p.read_text())]
    assert [p.relative_to(PKG).as_posix() for p in defining] == ["reference/mets_criteria.py"]
