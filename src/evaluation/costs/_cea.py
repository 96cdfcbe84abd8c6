"""Deterministic cost-effectiveness: ICER table with dominance, net monetary benefit.

The incremental analysis follows the textbook algorithm (Drummond et al.,
*Methods for the Economic Evaluation of Health Care Programmes*; as implemented
by dampack's ``calculate_icers``): order by cost, drop strongly dominated
strategies (another is no more costly and at least as effective, one strictly),
then repeatedly drop extendedly dominated ones (ICER higher than that of the
next more effective strategy), and report ICERs along the frontier. Written
here rather than imported because no maintained Python library does it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

STATUS_LABELS = {
    "ND": {"ko": "효율적(비지배)", "en": "Non-dominated"},
    "D": {"ko": "지배됨(열등)", "en": "Dominated"},
    "ED": {"ko": "확장 지배됨", "en": "Extendedly dominated"},
}


def _as_arrays(costs, effects, strategies) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if isinstance(costs, pd.DataFrame):
        df = costs
        cols = {c.lower(): c for c in df.columns}
        need = ("strategy", "cost", "effect")
        if not all(n in cols for n in need):
            raise ValueError(f"icer: a DataFrame needs columns {need}, got {list(df.columns)}")
        return (df[cols["cost"]].to_numpy(float), df[cols["effect"]].to_numpy(float),
                [str(s) for s in df[cols["strategy"]]])
    c = np.asarray(costs, dtype=float)
    e = np.asarray(effects, dtype=float)
    if c.ndim != 1 or c.shape != e.shape:
        raise ValueError(f"icer: costs and effects must be 1-D and the same length, got {c.shape} and {e.shape}")
    names = [str(s) for s in strategies] if strategies is not None else [f"S{i + 1}" for i in range(len(c))]
    if len(names) != len(c):
        raise ValueError(f"icer: {len(names)} strategy names for {len(c)} strategies")
    if len(set(names)) != len(names):
        raise ValueError(f"icer: strategy names must be unique, got {names}")
    if not (np.isfinite(c).all() and np.isfinite(e).all()):
        raise ValueError("icer: costs and effects must be finite numbers")
    return c, e, names


@dataclass
class IcerTable:
    """Result of :func:`icer`.

    Attributes
    ----------
    table_ : one row per strategy: strategy, cost, effect, inc_cost, inc_effect,
        icer (KRW per unit of effect), status ("ND", "ED", "D"), dominated_by.
        Frontier strategies first in order of cost, then ED, then D.
    frontier_ : names of the non-dominated strategies in order of cost.
    """

    table_: pd.DataFrame
    frontier_: list[str]

    def summary(self, lang: str = "en") -> pd.DataFrame:
        out = self.table_.copy()
        if lang == "ko":
            out["status_label"] = out["status"].map(lambda s: STATUS_LABELS[s]["ko"])
        return out

    def optimal(self, wtp: float) -> str:
        """The frontier strategy with the highest ICER not above ``wtp`` (max NMB among all strategies)."""
        t = self.table_
        return str(t.loc[(t["effect"] * wtp - t["cost"]).idxmax(), "strategy"])

    def plot(self, lang: str = "ko", ax=None):
        from ._plots import plot_frontier

        return plot_frontier(self.table_, lang=lang, ax=ax)


def icer(costs, effects=None, strategies: Sequence[str] | None = None) -> IcerTable:
    """ICER table for mutually exclusive strategies with strong and extended dominance.

    ``costs`` may be a DataFrame with columns strategy, cost, effect; otherwise
    pass equal-length arrays. A strategy that is cheaper *and* more effective than
    the status quo (cost-saving, dominant) simply makes the status quo "D"
    (dominated, ``dominated_by`` names it); its own ICER is then measured against the
    next cheaper frontier strategy, or is empty if it is the cheapest.
    """
    c, e, names = _as_arrays(costs, effects, strategies)
    n = len(c)
    status = np.array(["ND"] * n, dtype=object)
    dominated_by = np.array([None] * n, dtype=object)
    # strong dominance: j dominates i if c_j <= c_i and e_j >= e_i, one strictly
    for i in range(n):
        dom = (c <= c[i]) & (e >= e[i]) & ((c < c[i]) | (e > e[i]))
        if dom.any():
            status[i] = "D"
            cand = np.flatnonzero(dom)
            # name the dominating strategy with the best net position (cheapest, then most effective)
            best = cand[np.lexsort((-e[cand], c[cand]))[0]]
            dominated_by[i] = names[best]
    # among non-dominated, identical (cost, effect) twins share one frontier point
    nd = [i for i in range(n) if status[i] == "ND"]
    order = sorted(nd, key=lambda i: (c[i], -e[i]))
    points: list[list[int]] = []
    for i in order:
        if points and c[points[-1][0]] == c[i] and e[points[-1][0]] == e[i]:
            points[-1].append(i)
        else:
            points.append([i])
    # extended dominance: remove a point whose ICER exceeds the next point's, repeat
    changed = True
    while changed and len(points) > 2:
        changed = False
        reps = [p[0] for p in points]
        ic = [(c[reps[k]] - c[reps[k - 1]]) / (e[reps[k]] - e[reps[k - 1]]) for k in range(1, len(reps))]
        for k in range(len(ic) - 1):
            if ic[k] > ic[k + 1]:
                drop = points.pop(k + 1)
                for i in drop:
                    status[i] = "ED"
                    dominated_by[i] = f"{names[reps[k]]} & {names[reps[k + 2]]}"
                changed = True
                break
    inc_c = np.full(n, np.nan)
    inc_e = np.full(n, np.nan)
    ratio = np.full(n, np.nan)
    for k in range(1, len(points)):
        prev = points[k - 1][0]
        for i in points[k]:
            inc_c[i] = c[i] - c[prev]
            inc_e[i] = e[i] - e[prev]
            ratio[i] = inc_c[i] / inc_e[i]
    frontier = [i for p in points for i in p]
    ed = sorted([i for i in range(n) if status[i] == "ED"], key=lambda i: c[i])
    d = sorted([i for i in range(n) if status[i] == "D"], key=lambda i: c[i])
    # dampack lists ED and D in descending cost; keep that convention for comparability
    rows = frontier + ed[::-1] + d[::-1]
    table = pd.DataFrame({
        "strategy": [names[i] for i in rows],
        "cost": c[rows], "effect": e[rows],
        "inc_cost": inc_c[rows], "inc_effect": inc_e[rows], "icer": ratio[rows],
        "status": status[rows], "dominated_by": dominated_by[rows],
    })
    return IcerTable(table, [names[i] for i in frontier])


def pairwise(costs, effects=None, strategies=None, *, reference: str) -> pd.DataFrame:
    """Each strategy against one ``reference`` (e.g. usual care): increments, ICER and quadrant.

    ``quadrant`` is "dominant" (cheaper and more effective: cost-saving), "dominated",
    "NE" (costs more, more effective: ICER applies), "SW" (cheaper, less effective).
    """
    c, e, names = _as_arrays(costs, effects, strategies)
    if reference not in names:
        raise ValueError(f"pairwise: reference {reference!r} not among strategies {names}")
    r = names.index(reference)
    dc, de = c - c[r], e - e[r]
    quad = np.where((dc <= 0) & (de >= 0) & ((dc < 0) | (de > 0)), "dominant",
                    np.where((dc >= 0) & (de <= 0) & ((dc > 0) | (de < 0)), "dominated",
                             np.where(dc > 0, "NE", "SW")))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isin(quad, ["NE", "SW"]), dc / de, np.nan)
    out = pd.DataFrame({"strategy": names, "reference": reference, "inc_cost": dc, "inc_effect": de,
                        "icer": ratio, "quadrant": quad})
    out.loc[r, "quadrant"] = "reference"
    return out


def nmb(costs, effects, wtp: float | Sequence[float]) -> np.ndarray:
    """Net monetary benefit ``wtp x effect - cost`` (KRW); broadcasts over strategies and thresholds.

    With scalar ``wtp`` the shape of ``costs`` is returned; with a vector of
    thresholds a trailing axis of thresholds is added.
    """
    c = np.asarray(costs, dtype=float)
    e = np.asarray(effects, dtype=float)
    if c.shape != e.shape:
        raise ValueError(f"nmb: costs {c.shape} and effects {e.shape} differ in shape")
    w = np.asarray(wtp, dtype=float)
    if w.ndim == 0:
        return e * w - c
    return e[..., None] * w - c[..., None]
