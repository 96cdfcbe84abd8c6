"""A programme's *reported* rate against the national rate, when only the published figure exists.

A programme report prints "behaviour improvement 57.4% (national 55.2%)" without the count or the
denominator. To test it we must assume a denominator ``n``; the count is then ``k = round(rate x n)``
(a rate printed to 0.1% pins ``k`` exactly for n below 1,000). The interval and test are the ones
:func:`evaluation.effects.kpis` uses (:func:`~evaluation.effects._kpi.share_test`: Wilson + score
test, or Clopper-Pearson + exact test), so the reported level and the records level agree by method.

The national rate is taken as a fixed value (its own sampling error, over the whole country's
participants, is ignored). The shares are before/after shares among people enrolled for being at
risk: regression to the mean inflates them, so "above the national rate" is not "effective"; the
caution travels with every result (:data:`~evaluation.effects._kpi.RTM_CAUTION`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from ._kpi import RTM_CAUTION, TEST_NAMES, CIMethod, share_test
from ._results import ROUND, diagnostic, diagnostics_frame

ALPHA = 0.05


def _verdict(share: float, national: float, pvalue: float, lang: str) -> str:
    if not np.isfinite(pvalue):
        return "검정 불가" if lang == "ko" else "not tested"
    if pvalue >= ALPHA:
        return (f"전국과 구별되지 않음 (p = {pvalue:.3f})" if lang == "ko"
                else f"not distinguishable from national (p = {pvalue:.3f})")
    higher = share > national
    if lang == "ko":
        return f"전국보다 {'높음' if higher else '낮음'} (p = {pvalue:.3g})"
    return f"{'above' if higher else 'below'} national (p = {pvalue:.3g})"


@dataclass
class ReportedRateResult:
    """One reported rate tested against the national rate under one denominator assumption.

    Attributes: ``indicator``, ``reported_rate`` and ``national_rate`` (proportions), ``n`` (assumed
    denominator, persons), ``count`` (``round(reported_rate x n)``), ``share`` (``count / n``), ``ci``
    (95%, proportions), ``z`` (score statistic, NaN for the exact test), ``pvalue`` (two-sided),
    ``denominator`` (what ``n`` is, Korean / English), ``method`` and ``caution`` (ko/en).
    """

    indicator: str
    reported_rate: float
    national_rate: float
    n: int
    count: int
    share: float
    ci: tuple[float, float]
    z: float
    pvalue: float
    denominator: str
    method: str
    caution: dict = field(default_factory=lambda: dict(RTM_CAUTION))

    @property
    def difference(self) -> float:
        """Reported minus national rate (proportion points)."""
        return self.reported_rate - self.national_rate

    @property
    def n_needed(self) -> int | None:
        """Smallest denominator (persons) at which the score test would call this difference significant
        at 5%: ``n >= 1.96^2 p0 (1 - p0) / (p - p0)^2`` with the rates as printed (None when they are equal).

        A planning figure: it ignores the rounding of ``k`` (and is the normal approximation for the exact test).
        """
        d = self.reported_rate - self.national_rate
        if d == 0:
            return None
        z = float(norm.ppf(1 - ALPHA / 2))
        return int(np.ceil(z * z * self.national_rate * (1 - self.national_rate) / (d * d)))

    @property
    def significant(self) -> bool:
        return bool(np.isfinite(self.pvalue) and self.pvalue < ALPHA)

    def verdict(self, lang: str = "ko") -> str:
        return _verdict(self.share, self.national_rate, self.pvalue, lang)

    def summary(self) -> pd.DataFrame:
        """One tidy row: indicator, denominator assumption, n, count, reported rate, CI, national rate, test."""
        return pd.DataFrame([{
            "indicator": self.indicator, "denominator_assumption": self.denominator, "n": self.n,
            "count": self.count, "reported_rate": self.reported_rate, "ci_low": self.ci[0], "ci_high": self.ci[1],
            "national_rate": self.national_rate, "difference": self.difference, "z": self.z,
            "pvalue": self.pvalue, "test": self.method, "verdict_ko": self.verdict("ko"),
            "verdict_en": self.verdict("en"),
        }]).round(ROUND)

    @property
    def diagnostics(self) -> pd.DataFrame:
        """Whether the assumed ``n`` can produce the printed rate, and the regression-to-the-mean caution."""
        printed = round(self.reported_rate * 1000)
        back = round(self.share * 1000)
        ok = printed == back
        return diagnostics_frame([
            diagnostic(f"rounding:{self.indicator}:n={self.n}", self.share, f"{self.reported_rate:.3f}", ok,
                       f"{self.count}/{self.n} = {self.share:.2%}: 보고된 {self.reported_rate:.1%}"
                       + ("와 일치합니다." if ok else "가 나오지 않습니다. 이 분모 가정은 보고 수치와 맞지 않습니다."),
                       f"{self.count}/{self.n} = {self.share:.2%}: "
                       + ("reproduces" if ok else "does not reproduce") + f" the reported {self.reported_rate:.1%}."),
            diagnostic("regression_to_the_mean", float("nan"), "", None, self.caution["ko"], self.caution["en"]),
        ])


def reported_vs_national(rate: float, n: int, national: float, *, indicator: str = "",
                         denominator: str = "", ci: CIMethod = "wilson") -> ReportedRateResult:
    """Test a reported ``rate`` (proportion, e.g. 0.574) against a ``national`` rate assuming ``n`` persons.

    ``k = round(rate x n)``; the 95% CI and two-sided test are those of :func:`evaluation.effects.kpis`
    (``ci="wilson"``: Wilson + score test; ``"exact"``: Clopper-Pearson + exact binomial test).
    ``denominator`` says in words what ``n`` is (e.g. ``"참여자 전체 990명 / all 990 participants"``).
    """
    for name, p in (("rate", rate), ("national", national)):
        if not 0 <= p <= 1:
            raise ValueError(f"reported_vs_national: {name} must be a proportion in [0, 1], got {p!r}")
    if isinstance(n, bool) or int(n) != n or n <= 0:
        raise ValueError(f"reported_vs_national: n must be a positive whole number of persons, got {n!r}")
    if ci not in TEST_NAMES:
        raise ValueError(f"reported_vs_national: ci must be 'wilson' or 'exact', got {ci!r}")
    n = int(n)
    k = int(np.floor(rate * n + 0.5))  # round half up: Python's round() goes to even
    t = share_test(k, n, national, ci)
    return ReportedRateResult(indicator=indicator, reported_rate=float(rate), national_rate=float(national), n=n,
                              count=k, share=k / n, ci=(t["ci_low"], t["ci_high"]), z=t["z"], pvalue=t["pvalue"],
                              denominator=denominator or f"n = {n}", method=TEST_NAMES[ci])


@dataclass
class ReportedKPIResult:
    """Several reported rates, each under each denominator assumption (``results`` in that order)."""

    results: list[ReportedRateResult]
    caution: dict = field(default_factory=lambda: dict(RTM_CAUTION))

    def summary(self) -> pd.DataFrame:
        return pd.concat([r.summary() for r in self.results], ignore_index=True)

    @property
    def diagnostics(self) -> pd.DataFrame:
        frames = [r.diagnostics for r in self.results]
        out = pd.concat(frames, ignore_index=True)
        return out.drop_duplicates(subset=["check"], keep="first").reset_index(drop=True)

    def get(self, indicator: str, n: int) -> ReportedRateResult:
        for r in self.results:
            if r.indicator == indicator and r.n == n:
                return r
        raise KeyError(f"no reported result for {indicator!r} with n = {n}")

    def plot(self, ax=None, lang: str = "ko", labels: Mapping[str, str] | None = None):
        """Reported rates with their 95% CIs (one bar per indicator and denominator) and the national rates."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3.8))
        t = self.summary()
        x = np.arange(len(t))
        ax.bar(x, t["reported_rate"], color="C0", alpha=0.8, label="보고된 비율" if lang == "ko" else "Reported rate")
        ax.errorbar(x, t["reported_rate"], yerr=[t["reported_rate"] - t["ci_low"], t["ci_high"] - t["reported_rate"]],
                    fmt="none", color="k", capsize=4)
        ax.scatter(x, t["national_rate"], marker="D", color="C3", zorder=3, label="전국" if lang == "ko" else "National")
        names = labels or {}
        ax.set_xticks(x, [f"{names.get(i, i)}\nn={n:,}" for i, n in zip(t["indicator"], t["n"])], fontsize=8)
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0%}")
        ax.legend(fontsize=8, loc="lower right")
        return ax


def reported_kpis(reported: Mapping[str, float], national: Mapping[str, float],
                  denominators: Mapping[str, Sequence[tuple[int, str]]], *, ci: CIMethod = "wilson") -> ReportedKPIResult:
    """Each reported rate (indicator -> proportion) against its national rate under each of its denominators.

    ``denominators`` maps indicator -> ``[(n, description), ...]``; every indicator needs a national rate
    and at least one denominator.
    """
    out = []
    for ind, rate in reported.items():
        if ind not in national:
            raise ValueError(f"reported_kpis: no national rate for {ind!r}")
        if not denominators.get(ind):
            raise ValueError(f"reported_kpis: no denominator assumption for {ind!r}")
        for n, text in denominators[ind]:
            out.append(reported_vs_national(rate, n, national[ind], indicator=ind, denominator=text, ci=ci))
    return ReportedKPIResult(out)
