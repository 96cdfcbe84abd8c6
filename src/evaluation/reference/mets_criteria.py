"""The five metabolic-syndrome criteria, defined once for the KPIs, the cost model and the synthetic cohort.

Criteria of the national public-health-centre mobile-healthcare programme (NCEP ATP III with the Korean
waist cut-offs of the Korean Society for the Study of Obesity):

=========== =============================================== =========
criterion   at risk when                                    unit
=========== =============================================== =========
bp          SBP >= 130 or DBP >= 85                          mmHg
glucose     fasting glucose >= 100                           mg/dL
waist       >= 90 (men) / >= 85 (women)                      cm
tg          triglycerides >= 150                             mg/dL
hdl         HDL < 40 (men) / < 50 (women)                    mg/dL
=========== =============================================== =========

Metabolic syndrome: three or more criteria. Measures are columns ``<measure>_w<week>`` (``sbp_w0``,
``waist_w24``, ...) and ``sex`` in one of the documented codes (:data:`SEX_CODES`; anything else is an error).

Missing measures follow three-valued logic (SQL / pandas' nullable booleans): a criterion is at risk or
normal when its own measures decide it (BP is at risk when either observed pressure is high), unknown
otherwise; :func:`risk_flags` keeps the unknowns, :func:`risk_count` counts only criteria known to be met.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: cut-offs by criterion: (men, women) where they differ
CUTOFFS: dict[str, float | tuple[float, float]] = {
    "sbp": 130.0, "dbp": 85.0, "glucose": 100.0, "waist": (90.0, 85.0), "tg": 150.0, "hdl": (40.0, 50.0),
}
CRITERIA = ("bp", "glucose", "waist", "tg", "hdl")
#: criteria met for metabolic syndrome
METS_MIN_CRITERIA = 3
#: the measures the criteria read
MEASURES = ("sbp", "dbp", "glucose", "waist", "tg", "hdl")


def _ge(x: pd.Series, threshold) -> pd.Series:
    return (x >= threshold).astype("boolean").mask(x.isna())


def _lt(x: pd.Series, threshold) -> pd.Series:
    return (x < threshold).astype("boolean").mask(x.isna())


def kleene_any(frame: pd.DataFrame) -> pd.Series:
    """Row-wise Kleene OR: True if any True, False if all False, NA otherwise."""
    f = frame.astype("boolean")
    any_true = f.fillna(False).any(axis=1)
    all_known = f.notna().all(axis=1)
    return pd.Series(np.where(any_true, True, np.where(all_known, False, pd.NA)), index=frame.index,
                     dtype="boolean")


# documented sex codes (strings matched case-insensitively after stripping); KNHANES codes sex 1 = male, 2 = female
SEX_CODES: dict[object, str] = {
    "M": "M", "male": "M", "man": "M", "남": "M", "남자": "M", "남성": "M", 1: "M",
    "F": "F", "female": "F", "woman": "F", "여": "F", "여자": "F", "여성": "F", 2: "F",
}


def sex_codes(s: pd.Series, where: str = "kpis", positions=None) -> pd.Series:
    """``"M"`` / ``"F"`` from the documented codes :data:`SEX_CODES` (M/F, male/female in any case, 남/여,
    1/2 as KNHANES). Anything else, a missing value included, is an error naming the rows: the waist and HDL
    cut-offs differ by sex, and before this every code other than exactly "M" got the women's cut-offs
    (a man coded "male" with a waist of 87 cm was flagged at risk)."""
    from ..effects._guard import normalise_codes  # the estimators' one input guard; imported late (heavy)

    return normalise_codes(s, SEX_CODES, "sex", where, positions)


def _by_sex(male: pd.Series, cutoff: tuple[float, float]) -> pd.Series:
    return pd.Series(np.where(male, cutoff[0], cutoff[1]), index=male.index)


def risk_flags(df: pd.DataFrame, week: int) -> pd.DataFrame:
    """The five criteria at ``week`` as nullable booleans (``pd.NA`` only where that criterion's own
    measures cannot decide it)."""
    s = f"_w{week}"
    male = sex_codes(df["sex"], "risk_flags") == "M"
    out = pd.DataFrame(index=df.index)
    out["bp"] = kleene_any(pd.DataFrame({"s": _ge(df[f"sbp{s}"], CUTOFFS["sbp"]),
                                         "d": _ge(df[f"dbp{s}"], CUTOFFS["dbp"])}))
    out["glucose"] = _ge(df[f"glucose{s}"], CUTOFFS["glucose"])
    out["waist"] = _ge(df[f"waist{s}"], _by_sex(male, CUTOFFS["waist"]))
    out["tg"] = _ge(df[f"tg{s}"], CUTOFFS["tg"])
    out["hdl"] = _lt(df[f"hdl{s}"], _by_sex(male, CUTOFFS["hdl"]))
    return out


def risk_count(df: pd.DataFrame, week: int = 0) -> np.ndarray:
    """Number of criteria known to be met at ``week`` [criteria, 0-5]; an unknown criterion counts as not met."""
    return risk_flags(df, week).fillna(False).astype(bool).sum(axis=1).to_numpy(dtype=int)


def has_mets(df: pd.DataFrame, week: int = 0) -> np.ndarray:
    """Metabolic syndrome at ``week``: at least :data:`METS_MIN_CRITERIA` criteria known to be met."""
    return risk_count(df, week) >= METS_MIN_CRITERIA
