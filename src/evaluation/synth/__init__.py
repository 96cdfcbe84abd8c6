"""Synthetic cohorts with documented ground truth (see each module's docstring).

* :func:`participants` -- people, arms, staggered enrolment, clinical and behaviour
  measures at weeks 0/12/24 with a known effect, selection and regression to the mean.
* :func:`daily` / :func:`write_daily_parquet` -- participant-day step table.
* ``minutes`` -- minute-level steps and heart rate with injected artefacts and a truth mask.
* ``ledger`` -- a programme cost ledger consistent with the seed budgets.
"""
from __future__ import annotations

from .daily import daily, iter_daily, write_daily_parquet
from .participants import ARMS, BEHAVIOURS, CLINICAL, TRUTH, Truth, age_band, participants

__all__ = [
    "ARMS", "BEHAVIOURS", "CLINICAL", "TRUTH", "Truth", "age_band", "daily", "iter_daily",
    "participants", "write_daily_parquet",
]


def __getattr__(name: str):
    # minute and ledger generators are optional heavier modules, loaded on first use
    if name in {"minutes", "ledger"}:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(name)
