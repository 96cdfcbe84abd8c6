"""Parameter distributions for probabilistic sensitivity analysis (scipy.stats underneath).

The usual choices (Briggs, Claxton & Sculpher 2006, ch. 4): beta for
probabilities and utilities, gamma for costs, log-normal for relative risks,
Dirichlet for the rows of a transition matrix (from transition counts). Each can
be built from a mean and standard deviation by the method of moments.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


class _Dist:
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def mean(self) -> float | np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Fixed(_Dist):
    """A constant (no uncertainty)."""

    value: float

    def sample(self, n, rng):
        return np.full(n, float(self.value))

    @property
    def mean(self):
        return float(self.value)


@dataclass(frozen=True)
class Beta(_Dist):
    """Beta(alpha, beta) for probabilities and utilities in [0, 1]."""

    alpha: float
    beta: float

    def __post_init__(self):
        if self.alpha <= 0 or self.beta <= 0:
            raise ValueError(f"Beta needs alpha, beta > 0, got {self.alpha}, {self.beta}")

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> "Beta":
        if not 0 < mean < 1 or sd <= 0 or sd ** 2 >= mean * (1 - mean):
            raise ValueError(f"Beta.from_mean_sd: need 0<mean<1 and 0<sd^2<mean(1-mean), got {mean}, {sd}")
        k = mean * (1 - mean) / sd ** 2 - 1
        return cls(mean * k, (1 - mean) * k)

    @classmethod
    def from_counts(cls, events: float, n: float) -> "Beta":
        """Events out of n trials."""
        return cls(events, n - events)

    def sample(self, n, rng):
        return stats.beta(self.alpha, self.beta).rvs(size=n, random_state=rng)

    @property
    def mean(self):
        return self.alpha / (self.alpha + self.beta)


@dataclass(frozen=True)
class Gamma(_Dist):
    """Gamma(shape, scale) for costs and other positive skewed quantities."""

    shape: float
    scale: float

    def __post_init__(self):
        if self.shape <= 0 or self.scale <= 0:
            raise ValueError(f"Gamma needs shape, scale > 0, got {self.shape}, {self.scale}")

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> "Gamma":
        if mean <= 0 or sd <= 0:
            raise ValueError(f"Gamma.from_mean_sd: need mean, sd > 0, got {mean}, {sd}")
        return cls((mean / sd) ** 2, sd ** 2 / mean)

    def sample(self, n, rng):
        return stats.gamma(self.shape, scale=self.scale).rvs(size=n, random_state=rng)

    @property
    def mean(self):
        return self.shape * self.scale


@dataclass(frozen=True)
class LogNormal(_Dist):
    """Log-normal with log-scale mean ``meanlog`` and sd ``sdlog`` (relative risks, hazard ratios)."""

    meanlog: float
    sdlog: float

    def __post_init__(self):
        if self.sdlog <= 0:
            raise ValueError(f"LogNormal needs sdlog > 0, got {self.sdlog}")

    @classmethod
    def from_ci(cls, estimate: float, lower: float, upper: float, level: float = 0.95) -> "LogNormal":
        """From a ratio estimate and its confidence interval (symmetric on the log scale)."""
        if not 0 < lower < estimate < upper:
            raise ValueError(f"LogNormal.from_ci: need 0 < lower < estimate < upper, got {lower}, {estimate}, {upper}")
        z = stats.norm.ppf(0.5 + level / 2)
        return cls(float(np.log(estimate)), float((np.log(upper) - np.log(lower)) / (2 * z)))

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> "LogNormal":
        if mean <= 0 or sd <= 0:
            raise ValueError(f"LogNormal.from_mean_sd: need mean, sd > 0, got {mean}, {sd}")
        s2 = np.log(1 + (sd / mean) ** 2)
        return cls(float(np.log(mean) - s2 / 2), float(np.sqrt(s2)))

    def sample(self, n, rng):
        return stats.lognorm(s=self.sdlog, scale=np.exp(self.meanlog)).rvs(size=n, random_state=rng)

    @property
    def mean(self):
        return float(np.exp(self.meanlog + self.sdlog ** 2 / 2))


@dataclass(frozen=True)
class Normal(_Dist):
    """Normal(mean, sd), e.g. for a regression coefficient."""

    mu: float
    sd: float

    def sample(self, n, rng):
        return stats.norm(self.mu, self.sd).rvs(size=n, random_state=rng)

    @property
    def mean(self):
        return self.mu


@dataclass(frozen=True)
class Dirichlet(_Dist):
    """Dirichlet(alpha) for a row of transition probabilities; ``alpha`` = observed transition counts."""

    alpha: tuple[float, ...]

    def __post_init__(self):
        a = np.asarray(self.alpha, dtype=float)
        if a.ndim != 1 or len(a) < 2 or (a <= 0).any():
            raise ValueError(f"Dirichlet needs >= 2 positive concentration values, got {self.alpha}")
        object.__setattr__(self, "alpha", tuple(float(x) for x in a))

    def sample(self, n, rng):
        return stats.dirichlet(np.asarray(self.alpha)).rvs(size=n, random_state=rng)

    @property
    def mean(self):
        a = np.asarray(self.alpha)
        return a / a.sum()
