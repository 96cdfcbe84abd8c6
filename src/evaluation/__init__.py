"""Evaluation workbench for Seoul's digital health programmes.

The packages follow the data's way, in one direction::

    raw exports (band CSV/Parquet, Apple/Samsung/Fitbit/Garmin)
      -> ingest     schema, types, pseudonyms, quarantine with reasons, row accounting
    programme records (XLSX/CSV: enrolment, screening, surveys)
      -> records    Korean headers, pandera validation, the same pseudonyms -> the participants table
      -> store      incremental minutes and daily stores with a ledger of export files
         (signals:  per-minute cleaning, non-wear, daily summaries -- run inside the store build)
      -> cohort     DuckDB/Dask aggregation, engagement, Table 1
      -> effects / costs / equity     the estimators
      -> runs       papermill runs of params/*.yaml -> outputs/<programme>/<run-id>/
      -> publish    the one gate to staff: labels, provenance, small-cell protection, reports
      -> dashboards Voila views of the latest published run

    reference (districts, official statistics) is read by every step; synth makes synthetic cohorts and
    exports with known truth for the demo and the tests; cli is the command line.

Submodules are imported lazily so that ``import evaluation`` stays fast and a notebook pays only for
what it uses::

    from evaluation import ingest, signals, cohort, effects, costs, equity, runs, synth
"""
from __future__ import annotations

import importlib
from typing import Any

from . import _compat

__version__ = "0.1.0"

#: the packages in the order of the data flow
PACKAGES = (
    "ingest", "records", "store", "signals", "cohort", "effects", "costs", "equity", "runs", "publish", "dashboards",
    "reference", "synth",
)

__all__ = list(PACKAGES)

_compat.install()


def __getattr__(name: str) -> Any:
    if name in PACKAGES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    new = _compat.new_name(f"{__name__}.{name}")
    if new is not None:  # ``from evaluation import report`` and other 0.1 names
        _compat.warn_moved(f"{__name__}.{name}", new)
        module = importlib.import_module(new)
        globals()[name] = module  # warned once; ``from evaluation import x`` looks the name up twice
        return module
    raise AttributeError(f"module 'evaluation' has no attribute {name!r}")
