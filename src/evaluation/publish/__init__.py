"""The one gate between results and staff.

In: what notebooks compute (headline numbers, aggregated tables, figures).
Out: a run's ``results.json``, ``tables/*.parquet``, ``figures/`` and HTML reports, each number
labelled in Korean and English, with its provenance, and small cells protected.

* :mod:`.report` -- the :class:`~evaluation.publish.report.Recorder` notebooks write through (the gate:
  unprotected numbers stay in ``<run>/private/``);
* :mod:`.perturbation` -- cell-key perturbation of every published person count (ONS package);
* :mod:`.results_store` -- the published tables of a run (save, load, DuckDB query);
* :mod:`.perturbation` -- record-key perturbation of every published person count (ONS cell-key method);
* :mod:`.suppression`, :mod:`.disclosure` -- small-cell protection and the run-wide audit;
* :mod:`.attacks` (with :mod:`.attack_lp`, :mod:`.attack_tables`, :mod:`.published`) -- an outsider's attack on
  everything a run publishes, run before ``latest`` moves;
* :mod:`.provenance`, :mod:`.result_labels`, :mod:`.glossary`, :mod:`.i18n` -- where a number comes
  from, its labels and rounding, the glossary, Korean/English text;
* :mod:`.staff_table`, :mod:`.plots`, :mod:`.report_html` -- tables, figure defaults and HTML pages
  as staff see them.

Submodules load lazily: ``from evaluation.publish import report``.
"""
from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = {
    "attacks", "disclosure", "glossary", "i18n", "perturbation", "plots", "provenance", "report", "report_html", "result_labels",
    "results_store", "staff_table", "suppression",
}
__all__ = sorted(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
