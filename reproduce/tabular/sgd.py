"""scikit-learn's ``SGDRegressor.partial_fit`` without its per-call overhead: the same updates in numba.

:class:`FastSGDRegressor` keeps ``coef_``, ``intercept_`` and ``t_`` as scikit-learn does and runs
``_plain_sgd``'s loop for one epoch over the rows it is given, operation for operation:

- the prediction ``p = (w . x) * wscale + intercept`` (a sequential sum, as ``WeightVector.dot``);
- the learning rate of the ``t`` counter (``constant``: ``eta0``; ``invscaling``:
  ``eta0 / t ** power_t``; ``optimal``: ``1 / (alpha * (optimal_init + t - 1))`` with
  scikit-learn's ``optimal_init`` for the squared error);
- ``dloss = p - y`` (the squared error's gradient) clipped to ``+-1e12``, ``update = -eta * dloss``;
- the L2 decay ``wscale *= max(0, 1 - eta * alpha)`` (reset below ``1e-9``), then
  ``w += x * (update / wscale)`` if ``update != 0`` and ``intercept += update``;
- ``t += 1`` per row, and ``w *= wscale`` once at the end (``reset_wscale``).

Results are bit-identical to scikit-learn's for one row per call (``tests/test_linear.py`` checks
this after a training run), and for several rows with ``shuffle=False``; scikit-learn shuffles
several rows with its own generator, which is not reproduced. Supported: ``loss="squared_error"``,
``penalty="l2"`` or ``None``, ``average=False``, dense float64 rows; anything else is a
``ValueError`` (use scikit-learn's ``SGDRegressor``, the readable reference).
"""

from __future__ import annotations

import math

import numba
import numpy as np

SCHEDULES = {"constant": 0, "invscaling": 1, "optimal": 2}
MAX_DLOSS = 1e12
WSCALE_THRESHOLD = 1e-9


@numba.njit(cache=True)
def sgd_epoch(w, intercept, X, y, schedule, eta0, power_t, alpha, l2, fit_intercept, t, optimal_init):
    """One pass of ``_plain_sgd`` over the rows of ``X`` (in order); ``w`` is updated in place.
    Returns ``(intercept, t)`` after the pass."""
    wscale = 1.0
    n, d = X.shape
    for i in range(n):
        innerprod = 0.0
        for j in range(d):
            innerprod += w[j] * X[i, j]
        p = innerprod * wscale + intercept
        if schedule == 2:
            eta = 1.0 / (alpha * (optimal_init + t - 1))
        elif schedule == 1:
            eta = eta0 / math.pow(t, power_t)
        else:
            eta = eta0
        dloss = p - y[i]
        if dloss < -MAX_DLOSS:
            dloss = -MAX_DLOSS
        elif dloss > MAX_DLOSS:
            dloss = MAX_DLOSS
        update = -eta * dloss
        update *= 1.0 * 1.0  # class_weight * sample_weight
        if l2:
            wscale *= max(0.0, 1.0 - (1.0 * eta * alpha))
            if wscale < WSCALE_THRESHOLD:
                for j in range(d):
                    w[j] *= wscale
                wscale = 1.0
        if update != 0.0:
            c = update / wscale
            for j in range(d):
                w[j] += X[i, j] * c
        if fit_intercept and update != 0.0:
            intercept += update * 1.0  # intercept_decay is 1 for dense rows
        t += 1.0
    for j in range(d):
        if not math.isfinite(w[j]):
            return math.nan, t
    for j in range(d):
        w[j] *= wscale
    return intercept, t


class FastSGDRegressor:
    """``SGDRegressor``'s ``partial_fit`` and ``predict`` for dense float64 rows (module docstring)."""

    def __init__(self, loss="squared_error", penalty="l2", alpha=0.0001, fit_intercept=True,
                 learning_rate="invscaling", eta0=0.01, power_t=0.25, average=False, shuffle=True,
                 random_state=None):
        if loss != "squared_error":
            raise ValueError(f"FastSGDRegressor has loss='squared_error' only, got {loss!r}")
        if penalty not in ("l2", None):
            raise ValueError(f"FastSGDRegressor has penalty 'l2' or None only, got {penalty!r}")
        if average:
            raise ValueError("FastSGDRegressor has no averaging (average=False); use SGDRegressor")
        if learning_rate not in SCHEDULES:
            raise ValueError(f"learning_rate must be one of {sorted(SCHEDULES)}, got {learning_rate!r}")
        self.loss, self.penalty, self.alpha, self.fit_intercept = loss, penalty, float(alpha), fit_intercept
        self.learning_rate, self.eta0, self.power_t = learning_rate, float(eta0), float(power_t)
        self.average, self.shuffle, self.random_state = average, shuffle, random_state  # one row: no shuffle
        self._schedule = SCHEDULES[learning_rate]
        # scikit-learn's initial t for "optimal": typw / max(1, gradient(1, -typw)); the squared error's
        # gradient there is -typw - 1 < 1
        typw = math.sqrt(1.0 / math.sqrt(self.alpha)) if self.alpha > 0 else 0.0
        self._optimal_init = 1.0 / (typw * self.alpha) if learning_rate == "optimal" else 0.0
        self.coef_ = None
        self.intercept_ = None
        self.t_ = 1.0

    def partial_fit(self, X, y):
        """One epoch over the rows of ``X`` (float64, C-ordered; one row is what the agent passes)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if self.coef_ is None:
            self.coef_ = np.zeros(X.shape[1])
            self.intercept_ = np.zeros(1)
        self.update(X, y)
        return self

    def update(self, X, y) -> None:
        """``partial_fit`` without the input conversion: ``X`` float64, C-ordered, 2-D; ``y`` float64."""
        intercept, self.t_ = sgd_epoch(self.coef_, float(self.intercept_[0]), X, y, self._schedule,
                                       self.eta0, self.power_t, self.alpha, self.penalty == "l2",
                                       self.fit_intercept, self.t_, self._optimal_init)
        if not math.isfinite(intercept):
            raise ValueError("Floating-point under-/overflow occurred at epoch #1. Scaling input data with "
                             "StandardScaler or MinMaxScaler might help.")
        self.intercept_[0] = intercept

    def predict(self, X) -> np.ndarray:
        return np.atleast_2d(X) @ self.coef_ + self.intercept_[0]
