"""One input guard shared by every estimator (effects, costs, equity, KPIs).

An estimator must never turn input it cannot interpret into a number. Each check
here either raises a ``ValueError`` naming the column and the first rows
(0-based positions in the table the caller passed; never the value, never an id,
since values and ids may identify people) or, for damage that can be set aside
without changing what is estimated, records a count by reason (:class:`Drops`)
that the estimator puts in its ``diagnostics`` and raises once as an
:class:`~evaluation.effects.EffectWarning`.

Checks: non-finite values (``inf``; NaN is "missing" and handled by complete
cases), constant outcomes or treatments, 0/1 codes with both arms present
(all-treated data refused), unknown category codes, duplicated unit-period rows,
a unit both treated and control, missing cluster ids.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ._results import EffectWarning, diagnostic

SHOW_ROWS = 5  # rows named in an error message


def row_list(mask: np.ndarray | pd.Series, positions: Sequence[int] | None = None) -> str:
    """'row(s) [3, 17, ...] (N in all)': the first positions where ``mask`` is true (``positions`` maps
    them back to the caller's table when the check runs on a subset)."""
    pos = np.flatnonzero(np.asarray(mask, dtype=bool))
    if positions is not None:
        pos = np.asarray(positions)[pos]
    shown = pos[:SHOW_ROWS].tolist()
    more = f", {len(pos)} in all" if len(pos) > SHOW_ROWS else ""
    return f"row(s) {shown}{more}"


def _numeric_values(s: pd.Series) -> np.ndarray | None:
    """The column as floats, or None when it is not numeric (strings and categories are not checked here)."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float).to_numpy()
    if not pd.api.types.is_numeric_dtype(s):
        return None
    return pd.to_numeric(s, errors="coerce").astype(float).to_numpy()


def require_finite(df: pd.DataFrame, columns: Sequence[str], where: str, role: str = "value") -> None:
    """Refuse ``inf`` / ``-inf`` in numeric ``columns`` (``role``: outcome, covariate, weight ...).

    An infinite outcome makes every mean NaN or infinite; an infinite covariate breaks the score model.
    There is no sensible way to drop it silently: it is usually a division by zero upstream."""
    for c in columns:
        v = _numeric_values(df[c])
        if v is None:
            continue
        bad = np.isinf(v)
        if bad.any():
            raise ValueError(f"{where}: {role} column {c!r} has {int(bad.sum())} infinite value(s) in "
                             f"{row_list(bad)}; fix or remove them (an infinite value cannot be averaged)")


def require_finite_array(a: np.ndarray, name: str, where: str) -> None:
    """As :func:`require_finite` for an array already extracted (NaN counts as non-finite here)."""
    bad = ~np.isfinite(np.asarray(a, dtype=float))
    if bad.any():
        raise ValueError(f"{where}: {name} has {int(bad.sum())} non-finite value(s) (NaN or inf) in {row_list(bad)}")


def require_varies(y: np.ndarray, column: str, where: str, role: str = "outcome") -> None:
    """Refuse a constant column: a constant outcome has no effect to estimate (the estimate is 0 up to
    rounding, its SE is rounding noise and the p-value meaningless); a constant treatment has no contrast."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    if len(y) == 0:
        raise ValueError(f"{where}: {role} column {column!r} has no observed value")
    spread = float(np.max(y) - np.min(y))
    if spread <= 1e-12 * max(1.0, float(np.max(np.abs(y)))):
        raise ValueError(f"{where}: {role} column {column!r} is constant in all {len(y)} rows used; "
                         "there is no variation to compare, so no effect can be estimated")


def require_binary(df: pd.DataFrame, column: str, where: str, role: str = "treatment",
                   need_both: bool = True) -> np.ndarray:
    """The column as 0/1 floats (NaN kept). Refuses other codes (naming the rows) and, with ``need_both``,
    data where every observed row is in one arm (all treated, or none)."""
    v = _numeric_values(df[column])
    if v is None:
        raise TypeError(f"{where}: {role} column {column!r} must be numeric 0/1 or boolean, got dtype {df[column].dtype}")
    bad = ~np.isnan(v) & ~np.isin(v, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"{where}: {role} column {column!r} must take values 0 and 1; {row_list(bad)} hold other codes")
    if need_both:
        obs = v[~np.isnan(v)]
        n1 = int((obs == 1).sum())
        if n1 == len(obs) or n1 == 0:
            which = "treated (1)" if n1 else "untreated (0)"
            raise ValueError(f"{where}: {role} column {column!r} is {which} in all {len(obs)} rows used; "
                             "an effect needs both treated and comparison units")
    return v


def normalise_codes(s: pd.Series, codes: Mapping[object, str], column: str, where: str,
                    positions: Sequence[int] | None = None) -> pd.Series:
    """Map the documented codes of a categorical column to canonical ones (strings matched after
    stripping and lower-casing; numbers as numbers). Unknown codes and missing values are refused,
    naming the rows: silently treating them as one category gives wrong answers."""
    lookup: dict[object, str] = {}
    for k, v in codes.items():
        lookup[k.strip().lower() if isinstance(k, str) else float(k)] = v

    def key(x):
        if isinstance(x, str):
            k = x.strip().lower()
            try:  # "1" and "2" as the numbers they spell
                return lookup[k] if k in lookup else lookup.get(float(k))
            except ValueError:
                return None
        if x is None or x is pd.NA or isinstance(x, (bool, np.bool_)):
            return None  # True / False are not codes (True would otherwise read as 1)
        if isinstance(x, float) and np.isnan(x):
            return None
        try:
            return lookup.get(float(x))
        except (TypeError, ValueError):
            return None

    out = s.map(key)
    bad = out.isna().to_numpy()
    if bad.any():
        known = ", ".join(sorted({str(k) for k in codes}))
        raise ValueError(f"{where}: column {column!r} has {int(bad.sum())} missing or unknown code(s) in "
                         f"{row_list(bad, positions)}; the documented codes are {known}")
    return out.astype(object)


def require_unique(df: pd.DataFrame, keys: Sequence[str], where: str) -> None:
    """Refuse duplicated key rows (e.g. two rows for one unit-period)."""
    dup = df.duplicated(list(keys), keep=False).to_numpy()
    if dup.any():
        raise ValueError(f"{where}: more than one row per ({', '.join(repr(k) for k in keys)}) in "
                         f"{row_list(dup)}; aggregate or deduplicate first")


def require_constant_within(df: pd.DataFrame, unit: str, column: str, where: str, role: str = "treatment") -> None:
    """Refuse a unit whose ``column`` changes between its rows (e.g. both treated and control)."""
    varies = (df.groupby(unit, sort=False, dropna=False)[column].transform("nunique", dropna=False) > 1).to_numpy()
    if varies.any():
        raise ValueError(f"{where}: {role} column {column!r} varies within {unit!r} for "
                         f"{df.loc[varies, unit].nunique()} unit(s), {row_list(varies)}; "
                         "a unit cannot be both treated and control")


def require_ids(df: pd.DataFrame, column: str, where: str, role: str = "cluster") -> None:
    """Refuse missing ids (a row without a cluster cannot be clustered)."""
    miss = df[column].isna().to_numpy()
    if miss.any():
        raise ValueError(f"{where}: {role} column {column!r} is missing in {int(miss.sum())} "
                         f"{row_list(miss)}; give every row a {role} id or drop those rows first")


@dataclass
class Drops:
    """Units (or rows, draws) set aside, counted by reason, for ``diagnostics`` and one warning.

    Each reason's text names what is counted (e.g. "units observed in one period only")."""

    where: str
    counts: dict[str, int] = field(default_factory=dict)
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, reason: str, n: int, ko: str, en: str) -> None:
        """Count ``n`` dropped for ``reason`` (ko / en describe what is counted, without the number)."""
        self.counts[reason] = self.counts.get(reason, 0) + int(n)
        self.texts[reason] = (ko, en)

    @property
    def n(self) -> int:
        return int(sum(self.counts.values()))

    def rows(self) -> list[dict]:
        """One diagnostics row per reason (``dropped:<reason>``), failing when something was dropped."""
        out = []
        for reason, k in self.counts.items():
            ko, en = self.texts[reason]
            out.append(diagnostic(f"dropped:{reason}", float(k), "0", k == 0,
                                  f"{ko} {k}개 제외", f"{en}: {k} dropped"))
        return out

    def warn(self, stacklevel: int = 3) -> None:
        """One :class:`EffectWarning` listing every reason with its count (nothing if none dropped)."""
        parts = [(r, k) for r, k in self.counts.items() if k]
        if not parts:
            return
        ko = "; ".join(f"{self.texts[r][0]} {k}개" for r, k in parts)
        en = "; ".join(f"{self.texts[r][1]}: {k}" for r, k in parts)
        warnings.warn(f"{self.where}: 제외 {ko} / dropped {en} (counts in diagnostics)", EffectWarning,
                      stacklevel=stacklevel)
