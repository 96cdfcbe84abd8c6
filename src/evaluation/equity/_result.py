"""The small result object every summary measure returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ROUND = 6  # digits kept in summary tables (one place, pingouin habit)


@dataclass(frozen=True)
class InequalityResult:
    """One summary measure of inequality with its confidence interval.

    Attributes
    ----------
    measure : short name (``"bgv"``, ``"sii"``, ...).
    estimate : point estimate in the unit stated by the measure's docstring.
    se : standard error; on the log scale when ``se_scale == "log"`` (ratio measures),
        NaN when the CI is a simulation percentile interval or no SE input was given.
    ci_low, ci_high : confidence limits (level ``conf_level``), NaN when not computable.
    ci_method : how the interval was computed (``"analytic: ..."``, ``"simulation: ..."``,
        ``"bootstrap: ..."``).
    n_groups : number of groups that entered the calculation.
    details : extra numbers (reference group, model coefficients, setting average ...).
    """

    measure: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    ci_method: str
    n_groups: int
    conf_level: float = 0.95
    se_scale: str = "natural"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ci(self) -> tuple[float, float]:
        """``(ci_low, ci_high)``."""
        return (self.ci_low, self.ci_high)

    def summary(self) -> pd.DataFrame:
        """One-row tidy table: measure, estimate, se, ci_low, ci_high, ci_method, n_groups."""
        row = {
            "measure": self.measure,
            "estimate": self.estimate,
            "se": self.se,
            "se_scale": self.se_scale,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "conf_level": self.conf_level,
            "ci_method": self.ci_method,
            "n_groups": self.n_groups,
        }
        df = pd.DataFrame([row])
        num = ["estimate", "se", "ci_low", "ci_high"]
        df[num] = df[num].astype(float).round(ROUND)
        return df

    def plot(self, ax: Any = None, *, label: str | None = None) -> Any:
        """Point estimate with its CI as a horizontal error bar; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 1.6))
        lo = self.estimate - self.ci_low if np.isfinite(self.ci_low) else 0.0
        hi = self.ci_high - self.estimate if np.isfinite(self.ci_high) else 0.0
        ax.errorbar([self.estimate], [0], xerr=[[lo], [hi]], fmt="o", capsize=4)
        null = 1.0 if self.measure in NULL_ONE else 0.0
        ax.axvline(null, color="grey", lw=0.8, ls="--")
        ax.set_yticks([0])
        ax.set_yticklabels([label or self.measure.upper()])
        return ax


# measures whose "no inequality" value is one rather than zero
NULL_ONE = frozenset({"ratio", "rii"})


def combine(results: list[InequalityResult]) -> pd.DataFrame:
    """Stack several results into one tidy table."""
    if not results:
        return pd.DataFrame(columns=InequalityResult("x", 0, 0, 0, 0, "", 0).summary().columns)
    return pd.concat([r.summary() for r in results], ignore_index=True)
