"""Result objects shared by the effect estimators: numbers as attributes, a tidy table, a plot."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

ROUND = 4  # one place sets the rounding of every summary() table (pingouin habit)

# every result's ``diagnostics`` table has these columns (one row per check)
DIAGNOSTIC_COLUMNS = ["check", "value", "threshold", "passed", "message_ko", "message_en"]


class EffectWarning(UserWarning):
    """A diagnostic check failed: the number may not mean what its label says (see ``.diagnostics``)."""


def diagnostic(check: str, value: float, threshold: str, passed: bool | None, ko: str, en: str) -> dict:
    """One row of a ``diagnostics`` table. ``passed=None`` marks an informational row."""
    return {"check": check, "value": value, "threshold": threshold, "passed": passed,
            "message_ko": ko, "message_en": en}


def diagnostics_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows from :func:`diagnostic` as the tidy diagnostics table (``passed`` nullable boolean)."""
    out = pd.DataFrame(rows, columns=DIAGNOSTIC_COLUMNS)
    out["passed"] = out["passed"].astype("boolean")
    return out


def warn_failed(diag: pd.DataFrame, where: str, stacklevel: int = 3) -> None:
    """One :class:`EffectWarning` per failed check, Korean first then English."""
    for _, r in diag[diag["passed"].eq(False).fillna(False)].iterrows():
        warnings.warn(f"{where}: {r['message_ko']} / {r['message_en']}", EffectWarning, stacklevel=stacklevel)


def diagnostics_view(results: dict[str, Any], lang: str = "ko") -> pd.DataFrame:
    """One display table of the ``diagnostics`` of several results (name -> result), headers and check names
    in ``lang``, verdict 통과 / 경고 / 참고 (pass / WARNING / note) and the message in that language. Results
    without a ``diagnostics`` attribute (or ``None``) are skipped, so notebooks work across versions."""
    from ..publish import i18n
    from ._labels import register

    register()
    lang = i18n.check_lang(lang)
    frames = []
    for name, res in results.items():
        diag = getattr(res, "diagnostics", None)
        if diag is None or not isinstance(diag, pd.DataFrame) or diag.empty:
            continue
        if "message_ko" not in diag.columns and "message" in diag.columns:
            # staggered_did writes one bilingual message, "Korean / English"
            parts = diag["message"].astype(str).str.split(" / ", n=1, expand=True).reindex(columns=[0, 1])
            diag = diag.assign(message_ko=parts[0], message_en=parts[1].fillna(parts[0]))
        frames.append(diag.assign(result=name))
    cols = ["result", "check", "value", "threshold", "verdict", "message"]
    if not frames:
        return pd.DataFrame(columns=[i18n.t(f"eff_diag_{c}", lang) for c in cols])
    d = pd.concat(frames, ignore_index=True)

    def check_label(c: str) -> str:
        base, _, rest = str(c).partition(":")
        key = f"eff_chk_{base}"
        label = i18n.t(key, lang)
        label = str(base) if label == key else label
        return f"{label} ({rest})" if rest else label

    verdict = np.where(d["passed"].isna(), i18n.t("eff_diag_info", lang),
                       np.where(d["passed"].fillna(False).astype(bool), i18n.t("eff_diag_pass", lang),
                                i18n.t("eff_diag_fail", lang)))
    out = pd.DataFrame({
        "result": d["result"], "check": d["check"].map(check_label),
        "value": pd.to_numeric(d["value"], errors="coerce").round(ROUND),
        # thresholds are text ("0.5-2") or numbers (alpha) depending on the estimator: one type for Parquet
        "threshold": d["threshold"].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:g}" if isinstance(v, float) else str(v)),
        "verdict": verdict, "message": d["message_ko" if lang == "ko" else "message_en"],
    })
    return out.rename(columns={c: i18n.t(f"eff_diag_{c}", lang) for c in cols})


def complete_cases(df: pd.DataFrame, columns: list[str], where: str) -> tuple[pd.DataFrame, dict]:
    """Rows with every column observed, and the diagnostics row counting the rest (R's ``na.omit``:
    drop incomplete units, warn with the count, instead of failing deep in a solver). An infinite value
    is not "missing": it is refused, naming the column and rows (:func:`._guard.require_finite`)."""
    from ._guard import require_finite

    require_finite(df, list(columns), where)
    d = df.dropna(subset=list(columns))
    dropped = len(df) - len(d)
    per_col = {c: int(df[c].isna().sum()) for c in columns if df[c].isna().any()}
    cols = ", ".join(f"{c} {k}" for c, k in per_col.items())
    row = diagnostic(
        "missing_values_dropped", float(dropped), "0", dropped == 0,
        f"결측값이 있는 {dropped}행(전체 {len(df)}행 중)을 분석에서 제외했습니다(완전 사례 분석; 열별 결측: {cols}).",
        f"dropped {dropped} of {len(df)} rows with missing values (complete cases; missing per column: {cols}).",
    )
    return d, row


def normal_ci(estimate: float, se: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wald interval estimate +/- z * se."""
    z = stats.norm.ppf(1 - alpha / 2)
    return (float(estimate - z * se), float(estimate + z * se))


@dataclass
class EffectResult:
    """One effect estimate.

    Attributes
    ----------
    estimate, se : float
        Point estimate and standard error in the outcome's units.
    ci : tuple of float
        Confidence interval (level ``1 - alpha``).
    n : int
        Units used.
    method : str
        Short description of the estimator and the SE.
    label : str
        What was estimated (e.g. ``"ATT sbp_w24"``).
    details : dict
        Estimator-specific extras (shown by ``summary()`` when scalar).
    diagnostics : DataFrame
        One row per check (``check, value, threshold, passed, message_ko, message_en``);
        failed checks were also raised as :class:`EffectWarning`.
    """

    estimate: float
    se: float
    ci: tuple[float, float]
    n: int
    method: str
    label: str = "effect"
    alpha: float = 0.05
    details: dict[str, Any] = field(default_factory=dict)
    diagnostics: pd.DataFrame = field(default_factory=lambda: diagnostics_frame([]), repr=False)

    @property
    def pvalue(self) -> float:
        """Two-sided normal p-value for estimate = 0."""
        if not np.isfinite(self.se) or self.se <= 0:
            return float("nan")
        return float(2 * stats.norm.sf(abs(self.estimate / self.se)))

    def summary(self) -> pd.DataFrame:
        """One-row tidy table: label, estimate, se, ci_low, ci_high, p, n, method."""
        row = {
            "label": self.label, "estimate": self.estimate, "se": self.se,
            "ci_low": self.ci[0], "ci_high": self.ci[1], "pvalue": self.pvalue,
            "n": self.n, "method": self.method,
        }
        row.update({k: v for k, v in self.details.items() if np.isscalar(v)})
        return pd.DataFrame([row]).round(ROUND)

    def __repr__(self) -> str:  # short, readable in notebooks
        lo, hi = self.ci
        return f"{type(self).__name__}({self.label}: {self.estimate:.4g} [{lo:.4g}, {hi:.4g}], se={self.se:.4g}, n={self.n})"


def check_columns(df: pd.DataFrame, columns: list[str] | tuple[str, ...], where: str) -> None:
    """Raise a clear error naming the missing columns."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{where}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{where}: column(s) {missing} not in the data (have {list(df.columns)[:20]}...)")


def check_numeric(df: pd.DataFrame, columns: list[str] | tuple[str, ...], where: str) -> None:
    """Raise if a column is not numeric / boolean."""
    for c in columns:
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])):
            raise TypeError(f"{where}: column {c!r} must be numeric, got dtype {df[c].dtype}")
