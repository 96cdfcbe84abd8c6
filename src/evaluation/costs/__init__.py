"""Cost and economic evaluation: ledgers, budget execution, unit costs, CEA and a Markov cohort model.

Thin public API over small private modules::

    from evaluation import costs
    led = costs.seed_ledger("district_secured")
    costs.budget_execution(led, by=["year", "funding_source"]).summary()
    costs.icer(costs=[...], effects=[...], strategies=[...]).table_
    m = costs.MarkovModel(states=[...], transition=P, state_costs=..., state_utilities=...).run()

Amounts are whole KRW unless a name says otherwise; thresholds are KRW per unit of effect.
"""
from __future__ import annotations

from ._cea import IcerTable, icer, nmb, pairwise
from ._distributions import Beta, Dirichlet, Fixed, Gamma, LogNormal, Normal
from ._execution import ExecutionResult, budget_execution, chronic_underexecution
from ._ledger import (FUNDING_SOURCES, LEDGER_COLUMNS, SEED_LEDGERS, ledger_totals, load_ledgers, read_ledger,
                      seed_ledger, to_krw, validate_ledger)
from ._markov import KOREA_DISCOUNT_RATE, MarkovModel, Strategy
from . import _mets_model as mets_model  # the illustrative MetS model of the cost notebook
from ._per_person import PerPersonCostResult, cost_per_person
from ._outcomes import ProgrammeOutcomes, programme_outcomes
from ._psa import PSAResult, psa
from ._sample import PublishedOutcomes, publish_outcomes, trial_from_counts
from ._tornado import TornadoResult, one_way, tornado
from ._uncertainty import DEFAULT_WTP_KRW, CESamples, bootstrap_ce, ceac, ceaf, evpi, wtp_grid
from ._unit_costs import UnitCostResult, attributable_count, unit_costs

__all__ = [
    "Beta", "CESamples", "DEFAULT_WTP_KRW", "Dirichlet", "ExecutionResult", "FUNDING_SOURCES", "Fixed", "Gamma",
    "IcerTable", "KOREA_DISCOUNT_RATE", "LEDGER_COLUMNS", "LogNormal", "MarkovModel", "Normal", "PSAResult", "ProgrammeOutcomes", "PublishedOutcomes",
    "SEED_LEDGERS", "Strategy", "TornadoResult", "UnitCostResult", "PerPersonCostResult", "cost_per_person", "attributable_count", "bootstrap_ce",
    "budget_execution", "ceac", "ceaf", "chronic_underexecution", "evpi", "icer", "ledger_totals", "load_ledgers",
    "nmb", "one_way", "pairwise", "programme_outcomes", "psa", "publish_outcomes", "read_ledger", "seed_ledger", "to_krw", "tornado", "trial_from_counts", "unit_costs",
    "validate_ledger", "wtp_grid",
]
