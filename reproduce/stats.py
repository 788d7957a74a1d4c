"""Confidence intervals used by every report, from scipy: Student t over seeds, Wilson for counts.

``scipy.stats`` is imported where it is used, not on import: a run needs only :func:`mean_ci`.
"""

from __future__ import annotations

import numpy as np


def t_interval(confidence: float, df: int, loc: float, scale: float) -> tuple[float, float]:
    """``scipy.stats.t.interval(confidence, df, loc, scale)``, the same operations (``t.ppf`` is
    ``scipy.special.stdtrit(df, q) * scale + loc``) without importing ``scipy.stats``: every run
    writes its evaluation's interval, and ``scipy.stats`` costs about 0.6 process-s to import."""
    from scipy.special import stdtrit

    alpha = np.asarray(confidence)
    q1, q2 = (1.0 - alpha) / 2, (1.0 + alpha) / 2
    return stdtrit(df, q1) * scale + loc, stdtrit(df, q2) * scale + loc


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval ``(mean, low, high)``; a single value has no width."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("mean_ci needs at least one value, got none")
    m = float(x.mean())
    if x.size == 1 or np.all(x == x[0]):
        return m, m, m
    sem = np.std(x, ddof=1) / x.size**0.5  # scipy.stats.sem(x)
    low, high = t_interval(confidence, x.size - 1, m, sem)
    return m, float(low), float(high)


def prediction_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval for one more run (a single published run is one draw, not a mean)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2 or np.all(x == x[0]):
        return float(x.mean()), float(x.mean())
    from scipy import stats

    scale = x.std(ddof=1) * np.sqrt(1 + 1 / x.size)
    low, high = stats.t.interval(confidence, x.size - 1, loc=x.mean(), scale=scale)
    return float(low), float(high)


def wilson_ci(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"wilson_ci needs 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    from scipy import stats

    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence, method="wilson")
    return float(ci.low), float(ci.high)


def binomial_range(share: float, trials: int, confidence: float = 0.95) -> tuple[int, int]:
    """Where one run of ``trials`` trials lands with ``confidence`` if the true share is ``share``."""
    from scipy import stats

    low, high = stats.binom.interval(confidence, trials, share)
    return int(low), int(high)


def iqm(values) -> float:
    """Interquartile mean: the mean of the middle 50% (rliable's robust aggregate)."""
    from scipy import stats

    return float(stats.trim_mean(np.asarray(values, dtype=float), 0.25))


def bootstrap_ci(values, statistic=np.mean, confidence: float = 0.95, resamples: int = 2000,
                 seed: int = 0) -> tuple[float, float, float]:
    """``(statistic, low, high)``: a percentile bootstrap over seeds (scipy), never outside the data's range.

    Percentile intervals are quantiles of resampled statistics, so for a mean or IQM they stay
    within the observed values and so within the score's range (unlike a t-interval over 3 seeds).
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one value, got none")
    point = float(statistic(x))
    if x.size == 1 or np.all(x == x[0]):
        return point, point, point
    from scipy import stats

    result = stats.bootstrap((x,), statistic, confidence_level=confidence, n_resamples=resamples,
                             method="percentile", rng=np.random.default_rng(seed), vectorized=False)
    return point, float(result.confidence_interval.low), float(result.confidence_interval.high)
