"""mean_ci's t interval without importing scipy.stats equals scipy.stats.t.interval bit for bit."""

import numpy as np

from reproduce.stats import mean_ci


def test_mean_ci_equals_scipy_stats_t_interval():
    from scipy import stats

    rng = np.random.default_rng(0)
    samples = [rng.integers(8, 501, n).astype(float) for n in (2, 3, 10, 100)]
    samples += [rng.normal(0, scale, n) for scale, n in ((1e-3, 5), (1.0, 30), (1e3, 200))]
    for x in samples:
        for confidence in (0.5, 0.9, 0.95, 0.99):
            m = float(x.mean())
            low, high = stats.t.interval(confidence, x.size - 1, loc=m, scale=stats.sem(x))
            assert mean_ci(x, confidence) == (m, float(low), float(high))
    assert mean_ci([3.0]) == mean_ci([3.0, 3.0]) == (3.0, 3.0, 3.0)
