"""Cohort description: the "Table 1" of baseline characteristics and enrolment counts.

Continuous variables are summarised as mean (SD), binary ones as n (%), and each
comparison of an arm against the reference arm carries the standardised mean
difference with the pooled-SD denominator sqrt((s1^2 + s0^2) / 2) (Austin 2009),
the usual balance yardstick (|SMD| > 0.1 flags imbalance).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..publish.i18n import register, t

register({
    "variable": {"ko": "변수", "en": "Variable"},
    "smd": {"ko": "표준화 평균차", "en": "Standardised mean difference"},
    "age": {"ko": "연령(세)", "en": "Age (years)"},
    "female": {"ko": "여성", "en": "Women"},
    "habitual_steps": {"ko": "평소 걸음 수", "en": "Habitual steps"},
    "sbp_w0": {"ko": "수축기 혈압(mmHg)", "en": "Systolic BP (mmHg)"},
    "waist_w0": {"ko": "허리둘레(cm)", "en": "Waist (cm)"},
    "glucose_w0": {"ko": "공복혈당(mg/dL)", "en": "Fasting glucose (mg/dL)"},
    "bmi_w0": {"ko": "체질량지수(kg/m²)", "en": "BMI (kg/m²)"},
    "smoker_w0": {"ko": "현재 흡연", "en": "Current smoker"},
    "income_quintile": {"ko": "소득 5분위", "en": "Income quintile"},
})

DEFAULT_VARIABLES = ("age", "female", "income_quintile", "habitual_steps", "bmi_w0", "waist_w0", "sbp_w0", "glucose_w0", "smoker_w0")


def _smd(x1: np.ndarray, x0: np.ndarray) -> float:
    s = np.sqrt((np.nanvar(x1, ddof=1) + np.nanvar(x0, ddof=1)) / 2)
    return float((np.nanmean(x1) - np.nanmean(x0)) / s) if s > 0 else 0.0


def baseline_table(
    participants: pd.DataFrame,
    *,
    by: str = "arm",
    reference: str = "comparison",
    variables: Sequence[str] = DEFAULT_VARIABLES,
    lang: str = "ko",
) -> pd.DataFrame:
    """Tidy Table 1: one row per variable x group with n, mean, sd (or share) and SMD vs ``reference``.

    ``female`` is derived from ``sex``; binary variables (only 0/1 values) get
    ``mean`` = share. Columns: variable, label, group, n, mean, sd, smd.
    """
    df = participants.copy()
    if variables is DEFAULT_VARIABLES:  # habitual_steps is a synthetic latent: tables read from records lack it
        variables = tuple(v for v in variables if v in df.columns or v == "female")
    if "female" in variables and "female" not in df:
        df["female"] = (df["sex"] == "F").astype(float)
    missing = [v for v in variables if v not in df.columns]
    if missing:
        raise KeyError(f"baseline_table: columns not found: {missing}")
    if reference not in set(df[by].astype(str)):
        raise ValueError(f"baseline_table: reference group {reference!r} not found in column {by!r}")
    ref = df[df[by].astype(str) == reference]
    rows = []
    for var in variables:
        x_ref = ref[var].to_numpy(float)
        for group, sub in df.groupby(by, observed=True, sort=False):
            x = sub[var].to_numpy(float)
            rows.append({
                "variable": var,
                "label": t(var, lang),
                "group": str(group),
                "n": int(np.isfinite(x).sum()),
                "mean": float(np.nanmean(x)) if len(x) else np.nan,
                "sd": float(np.nanstd(x, ddof=1)) if len(x) > 1 else np.nan,
                "smd": np.nan if str(group) == reference else _smd(x, x_ref),
            })
    return pd.DataFrame(rows)


def enrolment_counts(participants: pd.DataFrame, *, rows: str = "district", cols: str = "arm", threshold: int = 10) -> pd.DataFrame:
    """Participants per ``rows`` x ``cols`` cell with row/column totals, small cells suppressed.

    Uses :func:`evaluation.publish.suppression.protect` (primary plus complementary
    suppression) so no withheld cell can be recovered from the published totals.
    Columns: ``rows``, ``cols``, ``participants`` (NaN where withheld),
    ``suppressed``, ``reason``, ``margin`` (True on total rows).
    """
    from ..publish import suppression

    counts = participants.groupby([rows, cols], observed=True).size().rename("participants").reset_index()
    counts[cols] = counts[cols].astype(str)
    return suppression.protect(counts, rows=rows, cols=cols, value="participants", threshold=threshold).summary()
