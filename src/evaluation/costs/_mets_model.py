"""The illustrative metabolic-syndrome Markov model used by the cost notebook, defined in one place.

States: no metabolic syndrome -> metabolic syndrome (MetS) -> cardio-cerebrovascular disease (CVD)
-> dead; annual cycles, half-cycle correction. The programme moves part of the starting MetS cohort
to "no MetS" (the observed difference in 24-week MetS resolution) and lowers MetS incidence by
``rr_incidence`` for ``effect_years``.

Every transition probability, cost and utility below is an ASSUMPTION chosen to be plausible, not an
estimate calibrated to Korean data: outputs of this model carry the ``illustrative`` provenance and
must not be quoted as findings. Keeping the inputs here (not typed into a notebook cell) means one
documented definition is used by the notebook, the PSA, the tornado diagram and the tests.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..publish.provenance import Provenance, illustrative
from ._distributions import Beta, Dirichlet, Gamma, LogNormal
from ._markov import MarkovModel, Strategy

PROVENANCE: Provenance = illustrative(
    "대사증후군 마르코프 예시 모형: 전이확률·비용·효용은 한국 자료로 보정하지 않은 가정값 "
    "/ illustrative MetS Markov model: transition probabilities, costs and utilities are assumptions, not Korean estimates"
)

STATES = ("no_mets", "mets", "cvd", "dead")

ASSUMED_INPUTS: dict[str, float] = {
    # annual transition probabilities (assumed)
    "p_mets": 0.06, "p_regress": 0.10, "p_cvd_no": 0.004, "p_cvd_mets": 0.012,
    "p_die_no": 0.003, "p_die_mets": 0.004, "p_die_cvd": 0.04,
    # annual costs per person in each state, KRW (assumed)
    "c_no": 300_000.0, "c_mets": 900_000.0, "c_cvd": 4_000_000.0,
    # utilities (assumed)
    "u_no": 0.93, "u_mets": 0.87, "u_cvd": 0.72,
    # programme effect on MetS incidence after the 24 weeks (assumed) and how long it lasts, years
    "rr_incidence": 0.85, "effect_years": 2,
}
"""Assumed base-case inputs; the data-driven ones (``mets0``, ``extra_resolved``, ``programme_cost``)
are added by :func:`base_inputs`."""


def base_inputs(*, mets0: float, extra_resolved: float, programme_cost_krw: float) -> dict[str, float]:
    """Base case: the assumed inputs plus the starting MetS share, the extra share resolved by the
    programme (treated minus comparison, floored at 0) and the programme cost per participant (KRW)."""
    q = dict(ASSUMED_INPUTS)
    q.update({"mets0": float(mets0), "extra_resolved": max(float(extra_resolved), 0.0),
              "programme_cost": float(programme_cost_krw)})
    return q


def build(q: Mapping[str, Any], *, horizon_years: int = 20, discount_costs: float = 0.045,
          discount_effects: float = 0.045) -> MarkovModel:
    """The model for one set of inputs ``q`` (see :data:`ASSUMED_INPUTS`); not yet run."""
    P = np.array([
        [0, q["p_mets"], q["p_cvd_no"], q["p_die_no"]],
        [q["p_regress"], 0, q["p_cvd_mets"], q["p_die_mets"]],
        [0, 0, 0, q["p_die_cvd"]],
        [0, 0, 0, 0.0],
    ])
    np.fill_diagonal(P, 1 - P.sum(axis=1))
    start_no = np.array([1 - q["mets0"], q["mets0"], 0, 0])
    moved = q["mets0"] * q["extra_resolved"]
    start_prog = start_no + np.array([moved, -moved, 0, 0])
    rr, years = q["rr_incidence"], q["effect_years"]
    return MarkovModel(
        list(STATES), P, state_costs={"no_mets": q["c_no"], "mets": q["c_mets"], "cvd": q["c_cvd"]},
        state_utilities={"no_mets": q["u_no"], "mets": q["u_mets"], "cvd": q["u_cvd"]},
        strategies={
            "no_programme": Strategy(init=start_no),
            "programme": Strategy(init=start_prog, one_off_cost=q["programme_cost"],
                                  rr=lambda k: rr if k <= years else 1.0, rr_to=["mets"]),
        },
        n_cycles=horizon_years, discount_costs=discount_costs, discount_effects=discount_effects,
        method="half_cycle", dead_states=["dead"])


def psa_distributions(base: Mapping[str, Any]) -> dict[str, Any]:
    """Distributions for the probabilistic sensitivity analysis (assumed spreads around the base case):
    beta for probabilities and utilities, gamma for costs, log-normal for the relative risk, Dirichlet
    for the no-MetS row (illustrative counts per 10,000: stay / MetS / CVD / death)."""
    d: dict[str, Any] = dict(base)
    d.update({
        "p_regress": Beta.from_mean_sd(0.10, 0.02), "p_cvd_mets": Beta.from_mean_sd(0.012, 0.003),
        "p_die_cvd": Beta.from_mean_sd(0.04, 0.008),
        "c_mets": Gamma.from_mean_sd(900_000, 180_000), "c_cvd": Gamma.from_mean_sd(4_000_000, 800_000),
        "u_no": Beta.from_mean_sd(0.93, 0.02), "u_mets": Beta.from_mean_sd(0.87, 0.03),
        "u_cvd": Beta.from_mean_sd(0.72, 0.05),
        "rr_incidence": LogNormal.from_ci(0.85, 0.70, 1.03),
        "no_row": Dirichlet((9330, 600, 40, 30)),
    })
    return d


def build_psa(q: Mapping[str, Any], **kwargs: Any) -> MarkovModel:
    """:func:`build` for a PSA draw, unpacking the Dirichlet row of the no-MetS state."""
    q = dict(q)
    row = q.pop("no_row")
    q["p_mets"], q["p_cvd_no"], q["p_die_no"] = row[1], row[2], row[3]
    return build(q, **kwargs)


def tornado_ranges(base: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Low/high values for the one-way sensitivity analysis (assumed plausible ranges)."""
    return {
        "rr_incidence": (0.70, 1.0), "extra_resolved": (0.0, 2 * base["extra_resolved"] + 0.05),
        "effect_years": (1, 5), "programme_cost": (0.5 * base["programme_cost"], 1.5 * base["programme_cost"]),
        "u_mets": (0.82, 0.91), "c_mets": (600_000.0, 1_200_000.0), "p_cvd_mets": (0.008, 0.02),
    }
