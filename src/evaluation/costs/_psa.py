"""Probabilistic sensitivity analysis: draw parameters, rebuild the model, collect costs and effects.

As in heemod (``define_psa`` + ``run_psa``) the model is a function of named
parameters: ``build(params) -> MarkovModel`` (run or not). :func:`psa` draws
every parameter from its distribution, runs the model per draw and returns a
:class:`PSAResult` (a :class:`CESamples` plus the parameter draws) for the CE
plane, CEAC, CEAF and EVPI.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ._distributions import _Dist
from ._uncertainty import CESamples


@dataclass
class PSAResult(CESamples):
    """:class:`CESamples` from a PSA; ``parameters_`` holds one row per draw (vector draws as lists)."""

    parameters_: pd.DataFrame | None = None


def _run_model(build: Callable[[dict], Any], params: dict) -> pd.DataFrame:
    model = build(params)
    if not hasattr(model, "results_"):
        model = model.run()
    return model.results_


def draw_parameters(distributions: Mapping[str, Any], n: int, seed: int | None = 0) -> list[dict[str, Any]]:
    """``n`` joint draws; plain numbers are held fixed. Parameters are drawn independently."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for name, dist in distributions.items():
        if isinstance(dist, _Dist):
            cols[name] = dist.sample(n, rng)
        elif np.isscalar(dist) or isinstance(dist, (list, tuple, np.ndarray)):
            cols[name] = [dist] * n
        else:
            raise TypeError(f"parameter {name!r}: expected a distribution from evaluation.costs or a fixed value")
    return [{k: (v[i] if not isinstance(v, np.ndarray) or v.ndim == 1 else v[i, :]) for k, v in cols.items()}
            for i in range(n)]


def psa(
    build: Callable[[dict], Any],
    distributions: Mapping[str, Any],
    *,
    n: int = 1000,
    seed: int | None = 0,
    effect: str | None = None,
) -> PSAResult:
    """Run ``build`` on ``n`` parameter draws; effect column defaults to the model's ``effect``."""
    if n < 2:
        raise ValueError(f"psa needs n >= 2 draws, got {n}")
    draws = draw_parameters(distributions, n, seed)
    first_model = build(draws[0])
    eff = effect or getattr(first_model, "effect", "qalys")
    costs, effects, names = [], [], None
    for i, p in enumerate(draws):
        res = _run_model(build, p) if i else (first_model.run().results_ if not hasattr(first_model, "results_")
                                              else first_model.results_)
        if names is None:
            names = list(res["strategy"])
        costs.append(res["cost"].to_numpy())
        effects.append(res[eff].to_numpy())
    params = pd.DataFrame([{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in d.items()} for d in draws])
    return PSAResult(np.vstack(costs), np.vstack(effects), names, source="psa", parameters_=params)
