"""Internals of :mod:`topics.effects`: corrected theme draws under noisy assignments.

The model (the structure of ``stm``: paragraph evidence times a covariate-dependent document
prior):

- document ``d`` with covariates ``x_d`` has theme proportions
  ``theta_d ~ Dirichlet(alpha * mu_d)``, ``mu_d = softmax(B' x_d)`` (a Dirichlet-multinomial
  regression: a multinomial logit for the mean, one precision ``alpha`` for how much
  documents differ beyond their covariates);
- each of its themed paragraphs has a theme ``z_i ~ Categorical(theta_d)``;
- the assignment's evidence about ``z_i`` is a likelihood ``L_ik = q_ik / pi_k``: the run's
  probability ``q_ik``, calibrated against the corpus-wide prior ``pi`` (estimated as the
  mean of ``q``: the mean of calibrated probabilities is the prior), divided by that prior.

:func:`posterior_draws` samples the themes from their posterior by data augmentation
(blocked Gibbs: ``theta_d`` given the themes, the themes given ``theta_d`` and the evidence)
and redraws the parameters ``(B, alpha)`` at every sweep by the weighted likelihood
bootstrap over documents (Newton & Raftery 1994: the maximum likelihood fit with Exp(1)
weights per document), so the draws carry the uncertainty of the prior's parameters as well
(proper multiple imputation). Optional calibration of the probabilities on coded paragraphs
(:func:`fit_calibration`, temperature and per-theme offsets) is redrawn the same way, with
weights per coded document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, logsumexp

_LOG_FLOOR = 1e-300
_LOG_ALPHA = (-3.0, 9.0)  # bounds of log(alpha): documents from very unlike to identical
#: Ridge on the prior's standardised slopes (a N(0, 1) prior): keeps a theme that a few
#: draws leave out of every document of a level from being shut out for good.
RIDGE = 1.0


def log_probs(q: np.ndarray) -> np.ndarray:
    """``log q`` with zeros floored (one-hot labels become a large finite penalty)."""
    return np.log(np.maximum(q, _LOG_FLOOR))


@dataclass
class Calibration:
    """Temperature and offsets: ``q_cal = softmax(a * log q / scale + b)``."""

    a: float
    b: np.ndarray
    scale: float

    def apply(self, logq: np.ndarray) -> np.ndarray:
        s = self.a * logq / self.scale + self.b
        return np.exp(s - logsumexp(s, axis=1, keepdims=True))


def _scale(logq: np.ndarray) -> float:
    spread = logq.max(1, keepdims=True) - logq
    return float(max(np.median(spread[spread > 0]) if (spread > 0).any() else 1.0, 1e-6))


def fit_calibration(
    logq: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    l2: float = 0.5,
    scale: float | None = None,
    init: Calibration | None = None,
) -> Calibration:
    """Temperature and per-theme offsets fitted on coded paragraphs (ridge multinomial ML).

    Parameters
    ----------
    logq : numpy.ndarray, shape (n, K)
        Log probabilities of the coded paragraphs (:func:`log_probs`).
    labels : numpy.ndarray, shape (n,)
        Their coded theme (index into the K columns).
    weights : numpy.ndarray, shape (n,), optional
        Case weights (the weighted likelihood bootstrap).
    l2 : float, default 0.5
        Ridge penalty on the offsets (towards none).
    scale : float, optional
        Divides ``logq`` so the temperature is of order 1 (default: the median gap between a
        paragraph's best and other log probabilities).

    Returns
    -------
    Calibration
    """
    n, k = logq.shape
    scale = _scale(logq) if scale is None else scale
    x = logq / scale
    y = np.zeros((n, k))
    y[np.arange(n), labels] = 1.0
    w = np.ones(n) if weights is None else weights

    def loss(p):
        a, b = p[0], p[1:]
        s = a * x + b
        lse = logsumexp(s, axis=1, keepdims=True)
        g = (np.exp(s - lse) - y) * w[:, None]
        value = -float(np.sum(w[:, None] * y * (s - lse))) + l2 * float(b @ b)
        return value, np.r_[float(np.sum(g * x)), g.sum(0) + 2 * l2 * b]

    p0 = np.r_[1.0, np.zeros(k)] if init is None else np.r_[init.a, init.b]
    bounds = [(1e-3, 50.0)] + [(-20.0, 20.0)] * k
    res = minimize(loss, p0, jac=True, method="L-BFGS-B", bounds=bounds)
    return Calibration(float(res.x[0]), res.x[1:], scale)


def calibration_step(
    cal: Calibration, logq: np.ndarray, labels: np.ndarray, w: np.ndarray, l2: float = 0.5
) -> Calibration:
    """One Newton step of :func:`fit_calibration` from ``cal`` (warm start, new weights)."""
    n, k = logq.shape
    x = logq / cal.scale
    s = cal.a * x + cal.b
    p = np.exp(s - logsumexp(s, axis=1, keepdims=True))
    y = np.zeros((n, k))
    y[np.arange(n), labels] = 1.0
    r = (p - y) * w[:, None]
    grad = np.r_[float(np.sum(r * x)), r.sum(0) + 2 * l2 * cal.b]
    px = (p * x).sum(1)
    vx = p * x - p * px[:, None]  # V_i x_i
    hess = np.empty((k + 1, k + 1))
    hess[0, 0] = float(w @ (p * x * x).sum(1) - w @ px**2)
    hess[0, 1:] = hess[1:, 0] = (w[:, None] * vx).sum(0)
    hess[1:, 1:] = np.diag((w[:, None] * p).sum(0)) - (w[:, None] * p).T @ p
    hess[1:, 1:] += 2 * l2 * np.eye(k)
    step = np.linalg.lstsq(hess, grad, rcond=None)[0]
    a = float(np.clip(cal.a - step[0], 1e-3, 50.0))
    return Calibration(a, np.clip(cal.b - step[1:], -20.0, 20.0), cal.scale)


def likelihoods(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evidence ``L = q / pi`` (rows scaled to a maximum of 1) and the prior ``pi = mean q``."""
    pi = np.maximum(q.mean(0), 1e-12)
    lik = q / pi
    return lik / np.maximum(lik.max(1, keepdims=True), 1e-300), pi


# --------------------------------------------------------------------------- DM regression


def _unpack(params, p, k):
    beta = np.zeros((p, k))
    beta[:, 1:] = params[:-1].reshape(p, k - 1)
    return beta, params[-1]


def dm_init(counts, X):
    """Start: the intercept at the corpus-wide log odds, alpha = 10."""
    n, k = counts.shape
    p = X.shape[1]
    params = np.zeros(p * (k - 1) + 1)
    share = (counts.sum(0) + 0.5) / (counts.sum() + 0.5 * k)
    const = np.flatnonzero(np.all(X == 1, axis=0))
    if len(const):
        b = np.zeros((p, k - 1))
        b[const[0]] = np.log(share[1:] / share[0])
        params[:-1] = b.ravel()
    params[-1] = np.log(10.0)
    return params


def softmax_rows(eta: np.ndarray) -> np.ndarray:
    return np.exp(eta - logsumexp(eta, axis=1, keepdims=True))


def standardized(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-constant columns centred and scaled (the fit's ridge and steps are then on one
    scale, and years such as 2017 do not make the intercept ill-conditioned); the mask of
    penalised (non-constant) columns.
    """
    sd = X.std(0)
    free = sd > 1e-12
    Xs = X.copy()
    Xs[:, free] = (X[:, free] - X[:, free].mean(0)) / sd[free]
    return Xs, free


def mean_step(beta, counts, X, w, ridge=RIDGE, penalised=None):
    """One Newton step of the weighted multinomial-logit fit of the mean (first column 0).

    The mean of the Dirichlet-multinomial is fitted by the multinomial quasi-likelihood
    (consistent for ``mu``; each paragraph counts once), which has a closed-form Hessian.
    """
    n, k = counts.shape
    p = X.shape[1]
    mu = softmax_rows(X @ beta)
    tot = counts.sum(1) * w
    resid = (counts * w[:, None] - tot[:, None] * mu)[:, 1:]
    pen = np.full(p, ridge) if penalised is None else np.where(penalised, ridge, 1e-6)
    grad = (X.T @ resid).ravel() - (pen[:, None] * beta[:, 1:]).ravel()
    m1 = mu[:, 1:]
    hess = np.empty((p, k - 1, p, k - 1))
    for a in range(k - 1):
        for b in range(a, k - 1):
            v = tot * (m1[:, a] * ((a == b) - m1[:, b]))
            block = (X * v[:, None]).T @ X
            hess[:, a, :, b] = block
            hess[:, b, :, a] = block.T
    hess = hess.reshape(p * (k - 1), p * (k - 1)) + np.diag(np.repeat(pen, k - 1))
    step = np.linalg.solve(hess, grad)
    step *= min(1.0, 5.0 / max(np.abs(step).max(), 1e-12))  # no wild first steps
    out = beta.copy()
    out[:, 1:] += step.reshape(p, k - 1)
    return out


def alpha_step(log_alpha, mu, counts, w, iters=3):
    """Newton steps of the Dirichlet-multinomial likelihood in ``log alpha``, mean fixed."""
    from scipy.special import polygamma

    tot = counts.sum(1)
    for _ in range(iters):
        al = np.exp(log_alpha)
        am = np.maximum(al * mu, 1e-10)
        g1 = digamma(al) - digamma(al + tot) + (mu * (digamma(am + counts) - digamma(am))).sum(1)
        h1 = polygamma(1, al) - polygamma(1, al + tot)
        h1 = h1 + (mu**2 * (polygamma(1, am + counts) - polygamma(1, am))).sum(1)
        d1 = al * float(w @ g1)  # d/d log alpha
        d2 = d1 + al**2 * float(w @ h1)
        step = -d1 / d2 if d2 < 0 else np.sign(d1) * 0.5
        log_alpha = float(np.clip(log_alpha + np.clip(step, -1.0, 1.0), *_LOG_ALPHA))
    return log_alpha


def fit_prior(counts, X, w=None, iters=30, ridge=RIDGE):
    """The document prior's parameters ``(beta, log alpha)`` fitted to theme counts
    (``X`` as given: standardise it first, see :func:`standardized`).
    """
    n, k = counts.shape
    w = np.ones(n) if w is None else w
    penalised = X.std(0) > 1e-12
    beta, log_alpha = _unpack(dm_init(counts, X), X.shape[1], k)
    for _ in range(iters):
        beta = mean_step(beta, counts, X, w, ridge, penalised)
        log_alpha = alpha_step(log_alpha, softmax_rows(X @ beta), counts, w)
    return beta, log_alpha


# --------------------------------------------------------------------------- sampler


@dataclass
class Coded:
    """Coded paragraphs for the calibration: rows (of the evidence), theme index, document."""

    rows: np.ndarray
    labels: np.ndarray
    docs: np.ndarray


def posterior_draws(
    q: np.ndarray,
    doc: np.ndarray,
    X: np.ndarray,
    n_draws: int,
    rng: np.random.Generator,
    *,
    coded: Coded | None = None,
    burn: int = 40,
    thin: int = 3,
) -> tuple[np.ndarray, dict]:
    """Themes drawn from their posterior under the document-prior model (module docstring).

    Parameters
    ----------
    q : numpy.ndarray, shape (n, K)
        Probabilities of the paragraphs to redraw (rows sum to 1).
    doc : numpy.ndarray, shape (n,)
        Each paragraph's document (row of ``X``).
    X : numpy.ndarray, shape (n_docs, p)
        Design matrix of the documents (the effect formula's).
    n_draws : int
    rng : numpy.random.Generator
    coded : Coded, optional
        Coded paragraphs: the probabilities are recalibrated (temperature and offsets) on
        them, at every sweep with bootstrap weights per coded document.
    burn, thin : int
        Sweeps before the first draw and between draws.

    Returns
    -------
    draws : numpy.ndarray, shape (n_draws, n)
        Theme index of every paragraph in each draw.
    info : dict
        Posterior means of ``alpha`` and the calibration's temperature (or None).
    """
    n, k = q.shape
    n_docs = X.shape[0]
    logq = log_probs(q)
    cal = scale = None
    cdocs = None
    if coded is not None:
        scale = _scale(logq)
        cal = fit_calibration(logq[coded.rows], coded.labels, scale=scale)
        _, cdocs = np.unique(coded.docs, return_inverse=True)
    lik, _ = likelihoods(cal.apply(logq) if cal is not None else q)
    # start from the corpus-calibrated probabilities themselves
    z = _categorical(lik * (q.mean(0) if cal is None else 1.0), rng)
    X, penalised = standardized(X)
    beta, log_alpha = _unpack(dm_init(_counts(doc, z, n_docs, k), X), X.shape[1], k)
    draws = np.empty((n_draws, n), dtype=np.int64)
    alphas, temps = [], []
    total = burn + thin * n_draws
    for sweep in range(total):
        if cal is not None:
            cw = rng.exponential(size=cdocs.max() + 1)[cdocs]
            cal = calibration_step(cal, logq[coded.rows], coded.labels, cw)
            lik, _ = likelihoods(cal.apply(logq))
        counts = _counts(doc, z, n_docs, k)
        w = rng.exponential(size=n_docs)  # weighted likelihood bootstrap over documents
        for _ in range(2):
            beta = mean_step(beta, counts, X, w, RIDGE, penalised)
        mu = softmax_rows(X @ beta)
        log_alpha = alpha_step(log_alpha, mu, counts, w, iters=1)
        shape = np.maximum(np.exp(log_alpha) * mu + counts, 1e-3)
        theta = rng.gamma(shape)
        theta /= np.maximum(theta.sum(1, keepdims=True), 1e-300)
        z = _categorical(lik * np.maximum(theta[doc], 1e-300), rng)
        if sweep >= burn and (sweep - burn) % thin == thin - 1:
            draws[(sweep - burn) // thin] = z
            alphas.append(np.exp(log_alpha))
            temps.append(None if cal is None else cal.scale / cal.a)
    info = {
        "alpha": float(np.mean(alphas)),
        "temperature": None if cal is None else float(np.mean(temps)),
    }
    return draws, info


def _counts(doc, z, n_docs, k):
    return np.bincount(doc * k + z, minlength=n_docs * k).reshape(n_docs, k).astype(float)


def _categorical(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(cum))[:, None] * cum[:, -1:]
    return np.minimum((u >= cum).sum(1), weights.shape[1] - 1)
