"""Evaluation workbench for Seoul's digital health programmes.

Submodules are imported lazily so that ``import evaluation`` stays fast and a
notebook pays only for what it uses::

    from evaluation import ingest, signals, cohort, effects, costs, equity, runs, synth
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = {
    "cohort", "costs", "districts", "effects", "equity", "i18n", "ingest",
    "params", "plots", "report", "runs", "signals", "synth", "suppression",
    "engagement", "store", "dashboards",
}

__all__ = sorted(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'evaluation' has no attribute {name!r}")
