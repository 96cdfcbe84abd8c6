"""Decision uncertainty from joint samples of costs and effects (bootstrap or PSA).

A :class:`CESamples` holds ``n`` joint draws of mean cost (KRW) and mean effect
(e.g. QALYs) for ``k`` strategies and answers the usual questions: the
cost-effectiveness plane, the acceptability curve (CEAC: probability that each
strategy has the highest net monetary benefit at a threshold), the acceptability
frontier (CEAF: the strategy with the highest *expected* NMB and its probability)
and the expected value of perfect information (EVPI).

Draws with a NaN or infinite cost or effect in any strategy (a failed model run) are left out of
every summary (CE plane, CEAC, CEAF, EVPI, ICER of means), counted in ``n_dropped`` and
``diagnostics`` and warned once (:class:`~evaluation.effects.EffectWarning`); all draws bad is an error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..effects._guard import Drops, require_finite
from ..effects._results import diagnostics_frame
from ._cea import icer as _icer
from ._cea import nmb as _nmb

DEFAULT_WTP_KRW = 30_000_000.0


def wtp_grid(max_krw: float = 100_000_000, step_krw: float = 1_000_000) -> np.ndarray:
    """Thresholds 0, step, ..., max (KRW per unit of effect)."""
    return np.arange(0.0, max_krw + step_krw / 2, step_krw)


def _best(nmb: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """Index of the strategy with the highest NMB per sample; exact ties go to the more effective one.

    ``nmb`` and ``effects`` are (n, k); returns (n,). The tie rule makes a strategy
    that is dominated (no cheaper, no more effective, one strictly) never "best".
    """
    top = nmb.max(axis=1, keepdims=True)
    scale = np.maximum(np.abs(top), 1.0)
    cand = nmb >= top - 1e-12 * scale
    score = np.where(cand, effects, -np.inf)
    return score.argmax(axis=1)


@dataclass
class CESamples:
    """Joint samples of costs and effects.

    Attributes
    ----------
    costs_, effects_ : arrays (n_samples, n_strategies), KRW and effect units per person.
    strategies : strategy names (columns).
    source : "bootstrap" or "psa".
    """

    costs_: np.ndarray
    effects_: np.ndarray
    strategies: list[str]
    source: str = "samples"

    def __post_init__(self) -> None:
        self.costs_ = np.asarray(self.costs_, dtype=float)
        self.effects_ = np.asarray(self.effects_, dtype=float)
        if self.costs_.ndim != 2 or self.costs_.shape != self.effects_.shape:
            raise ValueError(f"costs {self.costs_.shape} and effects {self.effects_.shape} must be equal 2-D arrays")
        if self.costs_.shape[1] != len(self.strategies):
            raise ValueError(f"{len(self.strategies)} strategy names for {self.costs_.shape[1]} columns")
        # a draw with a NaN / inf cost or effect in any strategy (a model run that failed) has no NMB to
        # compare: before this, argmax sent every such draw to the first strategy in the CEAC
        self.valid_ = (np.isfinite(self.costs_) & np.isfinite(self.effects_)).all(axis=1)
        bad = int((~self.valid_).sum())
        total = len(self.valid_)
        if total and bad == total:
            raise ValueError(f"{self.source}: all {total} draws have a non-finite (NaN or inf) cost or effect; "
                             "nothing to summarise (did every model run fail?)")
        self._drops = Drops(f"CESamples({self.source})")
        self._drops.add("nonfinite_draws", bad, "비용·효과가 NaN/무한대인 추출", "draws with a NaN or infinite cost or effect")
        self._drops.warn(stacklevel=4)
        self._c, self._e = self.costs_[self.valid_], self.effects_[self.valid_]

    @property
    def n_samples(self) -> int:
        """Draws used by every summary (those with finite costs and effects for all strategies)."""
        return int(self.valid_.sum())

    @property
    def n_draws(self) -> int:
        """All draws, including those left out for a non-finite cost or effect."""
        return self.costs_.shape[0]

    @property
    def n_dropped(self) -> int:
        """Draws left out of every summary for a NaN or infinite cost or effect."""
        return self.n_draws - self.n_samples

    @property
    def diagnostics(self) -> pd.DataFrame:
        """Draws dropped (``dropped:nonfinite_draws``), in the effects' diagnostics layout."""
        return diagnostics_frame(self._drops.rows())

    def _index(self, name: str) -> int:
        if name not in self.strategies:
            raise ValueError(f"unknown strategy {name!r}; have {self.strategies}")
        return self.strategies.index(name)

    def summary(self) -> pd.DataFrame:
        """Mean and 95% percentile interval of cost and effect per strategy."""
        q = lambda a: np.percentile(a, [2.5, 97.5], axis=0)  # noqa: E731
        cl, ch = q(self._c)
        el, eh = q(self._e)
        return pd.DataFrame({
            "strategy": self.strategies, "cost": self._c.mean(0), "cost_lo": cl, "cost_hi": ch,
            "effect": self._e.mean(0), "effect_lo": el, "effect_hi": eh, "n_samples": self.n_samples,
        })

    def icer(self):
        """ICER table on the sample means."""
        s = self.summary()
        return _icer(s["cost"].to_numpy(), s["effect"].to_numpy(), self.strategies)

    def ce_plane(self, reference: str | None = None) -> pd.DataFrame:
        """Incremental cost and effect of each strategy vs ``reference`` per sample (long table)."""
        ref = self._index(reference) if reference is not None else 0
        dc = self._c - self._c[:, [ref]]
        de = self._e - self._e[:, [ref]]
        frames = []
        for j, name in enumerate(self.strategies):
            if j == ref:
                continue
            frames.append(pd.DataFrame({"sample": np.arange(self.n_samples), "strategy": name,
                                        "reference": self.strategies[ref], "inc_cost": dc[:, j],
                                        "inc_effect": de[:, j]}))
        return pd.concat(frames, ignore_index=True)

    def ce_plane_summary(self, reference: str | None = None, wtp: float = DEFAULT_WTP_KRW) -> pd.DataFrame:
        """Aggregates of the CE plane per strategy: mean increments, 95% intervals, quadrant shares.

        Safe to store for dashboards (no sample-level rows).
        """
        plane = self.ce_plane(reference)
        rows = []
        for name, g in plane.groupby("strategy", sort=False):
            dc, de = g["inc_cost"].to_numpy(), g["inc_effect"].to_numpy()
            mde = de.mean()
            rows.append({
                "strategy": name, "reference": g["reference"].iloc[0],
                "inc_cost_mean": dc.mean(), "inc_cost_lo": np.percentile(dc, 2.5), "inc_cost_hi": np.percentile(dc, 97.5),
                "inc_effect_mean": mde, "inc_effect_lo": np.percentile(de, 2.5), "inc_effect_hi": np.percentile(de, 97.5),
                "icer_of_means": dc.mean() / mde if mde != 0 else np.nan,
                "p_ne": np.mean((dc > 0) & (de > 0)), "p_se_dominant": np.mean((dc <= 0) & (de >= 0)),
                "p_nw_dominated": np.mean((dc >= 0) & (de <= 0)), "p_sw": np.mean((dc < 0) & (de < 0)),
                "p_cost_effective_at_wtp": np.mean(de * wtp - dc > 0), "wtp": wtp, "n_samples": len(g),
            })
        return pd.DataFrame(rows)

    def nmb(self, wtp: float | Sequence[float]) -> np.ndarray:
        return _nmb(self._c, self._e, wtp)

    def ceac(self, wtp: Sequence[float] | None = None) -> pd.DataFrame:
        """Probability each strategy has the highest NMB, per threshold (long: wtp, strategy, prob)."""
        w = wtp_grid() if wtp is None else np.atleast_1d(np.asarray(wtp, dtype=float))
        rows = []
        k = len(self.strategies)
        for wi in w:
            best = _best(self._e * wi - self._c, self._e)
            p = np.bincount(best, minlength=k) / self.n_samples
            rows.extend({"wtp": wi, "strategy": s, "prob": p[j]} for j, s in enumerate(self.strategies))
        return pd.DataFrame(rows)

    def ceaf(self, wtp: Sequence[float] | None = None) -> pd.DataFrame:
        """Frontier: per threshold the strategy with the highest expected NMB and its CEAC probability."""
        w = wtp_grid() if wtp is None else np.atleast_1d(np.asarray(wtp, dtype=float))
        ce = self.ceac(w)
        mean_c, mean_e = self._c.mean(0), self._e.mean(0)
        rows = []
        for wi in w:
            j = int(_best((mean_e * wi - mean_c)[None, :], mean_e[None, :])[0])
            p = ce.loc[(ce["wtp"] == wi) & (ce["strategy"] == self.strategies[j]), "prob"].iloc[0]
            rows.append({"wtp": wi, "strategy": self.strategies[j], "prob": p})
        return pd.DataFrame(rows)

    def evpi(self, wtp: Sequence[float] | None = None, population: float = 1.0) -> pd.DataFrame:
        """Per-person (times ``population``) EVPI = E[max NMB] - max E[NMB], KRW, per threshold."""
        w = wtp_grid() if wtp is None else np.atleast_1d(np.asarray(wtp, dtype=float))
        out = []
        for wi in w:
            nb = self._e * wi - self._c
            out.append({"wtp": wi, "evpi": float(nb.max(axis=1).mean() - nb.mean(axis=0).max()) * population})
        return pd.DataFrame(out)

    def plot_ce_plane(self, reference: str | None = None, wtp: float = DEFAULT_WTP_KRW, lang: str = "ko", ax=None):
        from ._plots import plot_ce_plane

        return plot_ce_plane(self.ce_plane(reference), wtp=wtp, lang=lang, ax=ax)

    def plot_ceac(self, wtp: Sequence[float] | None = None, lang: str = "ko", ax=None, mark_wtp: float | None = DEFAULT_WTP_KRW):
        from ._plots import plot_ceac

        w = wtp_grid() if wtp is None else wtp
        return plot_ceac(self.ceac(w), self.ceaf(w), lang=lang, ax=ax, mark_wtp=mark_wtp)


def ceac(samples: CESamples, wtp: Sequence[float] | None = None) -> pd.DataFrame:
    """Cost-effectiveness acceptability curve of ``samples`` (see :meth:`CESamples.ceac`)."""
    return samples.ceac(wtp)


def ceaf(samples: CESamples, wtp: Sequence[float] | None = None) -> pd.DataFrame:
    """Cost-effectiveness acceptability frontier (see :meth:`CESamples.ceaf`)."""
    return samples.ceaf(wtp)


def evpi(samples: CESamples, wtp: Sequence[float] | None = None, population: float = 1.0) -> pd.DataFrame:
    """Expected value of perfect information (see :meth:`CESamples.evpi`)."""
    return samples.evpi(wtp, population)


def bootstrap_ce(
    data: pd.DataFrame,
    *,
    arm: str,
    cost: str,
    effect: str,
    n_boot: int = 1000,
    seed: int | None = 0,
    strategies: Sequence[str] | None = None,
    max_cells: int = 5_000_000,
) -> CESamples:
    """Non-parametric bootstrap of participant-level costs and effects, resampled within each arm.

    Each replicate draws, separately for every arm, as many participants as the
    arm has, with replacement, keeping each person's cost and effect together
    (paired), and records the arm means. Arms are independent samples, so they
    are resampled independently. ``strategies`` fixes the arm order (default:
    sorted arm labels). Work is chunked so that at most ``max_cells`` indices
    are held at once.
    """
    for col in (arm, cost, effect):
        if col not in data.columns:
            raise ValueError(f"bootstrap_ce: column {col!r} not in data (have {list(data.columns)})")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    df = data[[arm, cost, effect]]
    require_finite(df, [cost, effect], "bootstrap_ce")
    if df[arm].isna().any():
        raise ValueError(f"bootstrap_ce: column {arm!r} is missing in row(s) "
                         f"{np.flatnonzero(df[arm].isna().to_numpy())[:5].tolist()}")
    bad = df[[cost, effect]].isna().any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"bootstrap_ce: row {row} has a missing {cost!r} or {effect!r}; impute or drop first")
    arms = list(strategies) if strategies is not None else sorted(df[arm].astype(str).unique())
    rng = np.random.default_rng(seed)
    costs = np.empty((n_boot, len(arms)))
    effects = np.empty((n_boot, len(arms)))
    for j, a in enumerate(arms):
        sub = df[df[arm].astype(str) == str(a)]
        m = len(sub)
        if m == 0:
            raise ValueError(f"bootstrap_ce: arm {a!r} has no participants")
        c = sub[cost].to_numpy(float)
        e = sub[effect].to_numpy(float)
        chunk = max(1, max_cells // m)
        for start in range(0, n_boot, chunk):
            stop = min(n_boot, start + chunk)
            idx = rng.integers(0, m, size=(stop - start, m))
            costs[start:stop, j] = c[idx].mean(axis=1)
            effects[start:stop, j] = e[idx].mean(axis=1)
    return CESamples(costs, effects, [str(a) for a in arms], source="bootstrap")
