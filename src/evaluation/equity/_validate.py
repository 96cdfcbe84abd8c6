"""One shared input check for every measure (the pingouin habit).

Each measure takes a tidy table with one row per group and column names; this
module turns those into sorted numpy arrays and raises a clear ``ValueError``
naming the column and row when something is off (missing or infinite values, negative
populations or SEs, duplicated groups), in the wording of the estimators' shared input
guard (:mod:`evaluation.effects._guard`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..effects._guard import row_list


@dataclass(frozen=True)
class Groups:
    """Arrays for one set of groups (sorted by ``order`` when given)."""

    y: np.ndarray
    pop: np.ndarray
    se: np.ndarray | None
    label: np.ndarray
    order: np.ndarray | None

    @property
    def share(self) -> np.ndarray:
        return self.pop / self.pop.sum()

    @property
    def mean(self) -> float:
        """Population-weighted setting average."""
        return float(np.sum(self.share * self.y))


def _numeric(data: pd.DataFrame, col: str) -> np.ndarray:
    if col not in data.columns:
        raise ValueError(f"column {col!r} not found; available columns: {list(data.columns)}")
    s = data[col]
    if not pd.api.types.is_numeric_dtype(s):
        try:
            s = pd.to_numeric(s)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"column {col!r} must be numeric, found dtype {data[col].dtype}") from exc
    arr = s.to_numpy(dtype=float)
    bad = ~np.isfinite(arr)
    if bad.any():
        # the shared guard's wording (column and rows, never the value)
        i = int(np.flatnonzero(bad)[0])
        kind = "missing" if np.isnan(arr[i]) else "infinite"
        raise ValueError(f"column {col!r}, row {i}: expected a finite number, found a {kind} value; "
                         f"{int(bad.sum())} non-finite in {row_list(bad)}")
    return arr


def groups(
    data: pd.DataFrame,
    value: str,
    population: str | None = None,
    *,
    group: str | None = None,
    order: str | None = None,
    se: str | None = None,
    need_population: bool = True,
    need_order: bool = False,
    need_se: bool = False,
    min_groups: int = 2,
) -> Groups:
    """Validate a one-row-per-group table and return its arrays."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) < min_groups:
        raise ValueError(f"need at least {min_groups} groups (rows), got {len(data)}")
    if group is not None:
        if group not in data.columns:
            raise ValueError(f"column {group!r} not found; available columns: {list(data.columns)}")
        dup = data[group].duplicated()
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise ValueError(
                f"column {group!r}, row {i}: group {data[group].iloc[i]!r} appears twice; "
                "pass one row per group (filter to one indicator and year first)"
            )
        label = np.array(data[group].astype(str).tolist(), dtype=object)
    else:
        label = np.array([str(i) for i in range(len(data))], dtype=object)
    y = _numeric(data, value)
    if population is None:
        if need_population:
            raise ValueError("this measure is population-weighted: pass population=<column>")
        pop = np.ones(len(data))
    else:
        pop = _numeric(data, population)
        neg = pop < 0
        if neg.any():
            i = int(np.flatnonzero(neg)[0])
            raise ValueError(f"column {population!r}, row {i}: population must be >= 0, found {pop[i]}")
        if pop.sum() <= 0:
            raise ValueError(f"column {population!r}: populations sum to zero")
    se_arr = None
    if se is not None:
        se_arr = _numeric(data, se)
        neg = se_arr < 0
        if neg.any():
            i = int(np.flatnonzero(neg)[0])
            raise ValueError(f"column {se!r}, row {i}: standard error must be >= 0, found {se_arr[i]}")
    elif need_se:
        raise ValueError("this measure's confidence interval needs standard errors: pass se=<column>")
    ord_arr = None
    if order is not None:
        ord_arr = _numeric(data, order)
        if len(np.unique(ord_arr)) != len(ord_arr):
            raise ValueError(f"column {order!r}: order values must be distinct (one rank per group)")
        idx = np.argsort(ord_arr, kind="stable")
        y, pop, label, ord_arr = y[idx], pop[idx], label[idx], ord_arr[idx]
        if se_arr is not None:
            se_arr = se_arr[idx]
    elif need_order:
        raise ValueError(
            "this measure needs ordered groups: pass order=<column> ranking groups from the most "
            "disadvantaged (lowest) to the most advantaged (highest)"
        )
    return Groups(y=y, pop=pop, se=se_arr, label=label, order=ord_arr)


def ridit(pop: np.ndarray) -> np.ndarray:
    """Relative rank of each ordered group: the midpoint of its cumulative population share (0..1)."""
    cum = np.cumsum(pop)
    return (cum - 0.5 * pop) / pop.sum()


def z_value(conf_level: float) -> float:
    from scipy.stats import norm

    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level}")
    return float(norm.ppf(1 - (1 - conf_level) / 2))
