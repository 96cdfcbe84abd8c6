"""Two-group ATT estimators with their influence functions (outcome regression, IPW, doubly robust).

One outcome ``y`` (a level for cross-sectional ATT, or a change ``Y_t - Y_b`` for
panel DiD, where these are exactly the Sant'Anna & Zhao (2020) panel
estimators), a 0/1 group ``d`` and a covariate matrix ``X`` whose first column is
the constant. Each function returns ``(att, influence)`` with
``se = sqrt(mean(influence**2) / n)``; the influence functions include the
estimation effect of the propensity score (logit) and of the outcome regression
(OLS on the comparison units), derived from the stacked estimating equations.
"""
from __future__ import annotations

import numpy as np


def logit_fit(X: np.ndarray, d: np.ndarray, *, max_iter: int = 50, tol: float = 1e-10) -> np.ndarray:
    """Maximum-likelihood logit coefficients by Newton-Raphson.

    Hand-written (rather than statsmodels ``Logit``) because the bootstrap and
    the simulation study refit it thousands of times on small designs; the test
    suite checks it against statsmodels.
    """
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        eta = np.clip(X @ beta, -35, 35)
        p = 1.0 / (1.0 + np.exp(-eta))
        W = p * (1 - p)
        H = (X * W[:, None]).T @ X
        g = X.T @ (d - p)
        try:
            step = np.linalg.solve(H + 1e-10 * np.eye(len(beta)), g)
        except np.linalg.LinAlgError as exc:  # pragma: no cover - singular design
            raise ValueError("propensity model: singular design (collinear covariates?)") from exc
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    return beta


def _ps(X: np.ndarray, d: np.ndarray, trim: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Fitted propensity scores and the influence function of the logit coefficients (n x k)."""
    beta = logit_fit(X, d)
    e = 1.0 / (1.0 + np.exp(-np.clip(X @ beta, -35, 35)))
    e = np.clip(e, trim, 1 - trim)
    info = (X * (e * (1 - e))[:, None]).T @ X / len(d)
    if_gamma = ((d - e)[:, None] * X) @ np.linalg.pinv(info)
    return e, if_gamma


def _ols_controls(X: np.ndarray, y: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS of y on X among d == 0: predictions for everyone and the coefficients' influence function."""
    c = d == 0
    XtX = X[c].T @ X[c] / len(d)
    beta = np.linalg.lstsq(X[c], y[c], rcond=None)[0]
    m = X @ beta
    if_beta = (((1 - d) * (y - m))[:, None] * X) @ np.linalg.pinv(XtX)
    return m, if_beta


def att_reg(y: np.ndarray, d: np.ndarray, X: np.ndarray, trim_level: float | None = None) -> tuple[float, np.ndarray]:
    """Outcome-regression ATT: mean over treated of y - m(X), m fitted on the comparison units
    (``trim_level`` is accepted for a common signature and unused)."""
    m, if_beta = _ols_controls(X, y, d)
    p = d.mean()
    att = float(np.mean(d * (y - m)) / p)
    infl = (d * (y - m - att) - if_beta @ np.mean(d[:, None] * X, axis=0)) / p
    return att, infl


def _trim(e: np.ndarray, d: np.ndarray, trim_level: float | None) -> np.ndarray:
    """DRDID's trimming: comparison units with a propensity score >= ``trim_level`` get weight 0."""
    if trim_level is None:
        return np.ones_like(e)
    return np.where(d == 1, 1.0, (e < trim_level).astype(float))


def att_ipw(y: np.ndarray, d: np.ndarray, X: np.ndarray, trim_level: float | None = None) -> tuple[float, np.ndarray]:
    """Normalised (Hajek) IPW ATT with odds weights e/(1-e) on the comparison units.

    ``trim_level`` (e.g. 0.995, DRDID's default) zeroes the weight of comparison units with e >= trim_level."""
    e, if_g = _ps(X, d)
    w1 = d
    w0 = _trim(e, d, trim_level) * (1 - d) * e / (1 - e)
    eta1 = np.sum(w1 * y) / np.sum(w1)
    eta0 = np.sum(w0 * y) / np.sum(w0)
    inf1 = w1 * (y - eta1) / w1.mean()
    m2 = np.mean((w0 * (y - eta0))[:, None] * X, axis=0)
    inf0 = (w0 * (y - eta0) + if_g @ m2) / w0.mean()
    return float(eta1 - eta0), inf1 - inf0


def att_dr(y: np.ndarray, d: np.ndarray, X: np.ndarray, trim_level: float | None = None) -> tuple[float, np.ndarray]:
    """Doubly robust ATT (Sant'Anna & Zhao 2020, 'traditional' form, DRDID ``drdid_panel``);
    ``trim_level`` as in :func:`att_ipw`."""
    e, if_g = _ps(X, d)
    m, if_b = _ols_controls(X, y, d)
    trim = _trim(e, d, trim_level)
    w1 = trim * d
    w0 = trim * (1 - d) * e / (1 - e)
    r = y - m
    eta1 = np.sum(w1 * r) / np.sum(w1)
    eta0 = np.sum(w0 * r) / np.sum(w0)
    inf1 = (w1 * (r - eta1) - if_b @ np.mean(w1[:, None] * X, axis=0)) / w1.mean()
    inf0 = (w0 * (r - eta0) + if_g @ np.mean((w0 * (r - eta0))[:, None] * X, axis=0)
            - if_b @ np.mean(w0[:, None] * X, axis=0)) / w0.mean()
    return float(eta1 - eta0), inf1 - inf0


def ate_ipw(y: np.ndarray, d: np.ndarray, X: np.ndarray) -> tuple[float, np.ndarray]:
    """Normalised (Hajek) IPW ATE with weights 1/e and 1/(1-e)."""
    e, if_g = _ps(X, d)
    a1 = d / e
    a0 = (1 - d) / (1 - e)
    mu1 = np.sum(a1 * y) / np.sum(a1)
    mu0 = np.sum(a0 * y) / np.sum(a0)
    inf1 = (a1 * (y - mu1) - if_g @ np.mean((d * (1 - e) / e * (y - mu1))[:, None] * X, axis=0)) / a1.mean()
    inf0 = (a0 * (y - mu0) + if_g @ np.mean(((1 - d) * e / (1 - e) * (y - mu0))[:, None] * X, axis=0)) / a0.mean()
    return float(mu1 - mu0), inf1 - inf0


def overlap_fails(X: np.ndarray, d: np.ndarray, limit: float = 0.999) -> bool:
    """R ``did``'s per-cell overlap guard: some fitted propensity score (unclipped) reaches ``limit``."""
    if X.shape[1] == 1:
        return bool(d.mean() >= limit)
    beta = logit_fit(X, d)
    return bool(np.max(1.0 / (1.0 + np.exp(-np.clip(X @ beta, -35, 35)))) >= limit)


def regression_singular(X: np.ndarray, d: np.ndarray) -> bool:
    """R ``did``'s per-cell guard for outcome regression: the comparison units' Gram matrix is singular."""
    Xc = X[d == 0]
    if len(Xc) == 0:
        return True
    try:
        return bool(1.0 / np.linalg.cond(Xc.T @ Xc, 1) < np.finfo(float).eps)
    except np.linalg.LinAlgError:
        return True


ESTIMATORS = {"reg": att_reg, "ipw": att_ipw, "dr": att_dr}
