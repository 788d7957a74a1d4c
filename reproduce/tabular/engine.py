"""The fast NChain tournament: the tutorial's three table methods, compiled with numba.

Same rules, same draw order and same tie-breaking as the per-step reference in
:mod:`reproduce.tabular.agents`, but the env is inlined (old gym's ``nchain.py`` step) and
every (round, method) pair runs as one compiled loop, in parallel over pairs.

Randomness: each (round, method) pair owns a splitmix64 stream seeded from
``np.random.SeedSequence(seed)``, so results do not depend on the thread schedule or on
how rounds are batched, and ``--rounds 10`` gives exactly the first 10 rounds of
``--rounds 100``. Within a pair each training step draws for the agent, then for the env, in the tutorial's
order; the eps-greedy choice and the env step are branch-free (no mispredicted coin flips).
For exact comparison with the reference, random agent draws can instead be replayed
from fixed arrays (see :func:`train_table`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

METHODS = ("naive", "greedy_q", "eps_greedy_q")
NAIVE, GREEDY_Q, EPS_GREEDY_Q = range(3)
RULES = ("tutorial", "textbook")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _next(state):
    """splitmix64: advance ``state``, return (new state, 64 random bits)."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return state, z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _uniform(z):
    """The top 53 bits of a draw as a float in [0, 1)."""
    return (z >> np.uint64(11)) * _TO_UNIT


@njit(cache=True, inline="always")
def _env_step(s, a, z, slip, n, small, large):
    """Old gym NChain step, branch-free (arithmetic on 0/1 flags, exact): with probability
    ``slip`` the action is flipped."""
    taken = a ^ np.int64(_uniform(z) < slip)
    forward = 1 - taken
    last = np.int64(s == n - 1)
    new_s = forward * (s + 1 - last)
    r = taken * small + (forward * last) * large
    return new_s, r


@njit(cache=True)
def train_table(method, textbook, q, episodes, steps, slip, n, small, large, lr, y, eps0, decay,
                state, curve, replay_u, replay_a):
    """Train one table in place for ``episodes`` episodes; return the rng state.

    Each step takes an agent draw where the tutorial draws (eps-greedy: every step, eps test
    on its top 53 bits, random action from its lowest bit; naive and greedy: only for a
    random action while the row is all zeros), then one env draw (slip). ``curve[e]`` gets
    the training return of episode ``e``. If ``replay_a`` is non-empty, the agent's eps
    draws are read in order from ``replay_u`` (one per eps-greedy step) and its random
    actions from ``replay_a`` (one per random action), as the reference consumes them; the
    env draws still come from the stream.
    """
    replay = replay_a.size > 0
    is_eps = method == EPS_GREEDY_Q
    ia = 0
    iu = 0
    eps = eps0
    for e in range(episodes):
        s = 0
        if is_eps:
            eps *= decay
        total = 0.0
        for _ in range(steps):
            q0 = q[s, 0]
            q1 = q[s, 1]
            greedy = np.int64(q1 > q0)  # np.argmax: the first index wins a tie
            coin = np.int64(0)
            if replay:
                u = 1.0
                if is_eps:
                    u = replay_u[iu]
                    iu += 1
                explore = (is_eps & (u < eps)) | (q0 + q1 == 0)
                if explore:
                    coin = np.int64(replay_a[ia])
                    ia += 1
            elif is_eps:
                state, z = _next(state)
                explore = (_uniform(z) < eps) | (q0 + q1 == 0)
                coin = np.int64(z & np.uint64(1))
            else:
                explore = q0 + q1 == 0
                if explore:  # rare and predictable: only until the row has a value
                    state, z = _next(state)
                    coin = np.int64(z & np.uint64(1))
            # a = coin if explore else greedy, as arithmetic: LLVM turns a select into a
            # branch, and eps-greedy's explore flag is a coin flip (mispredicted half the time)
            a = greedy ^ ((greedy ^ coin) & np.int64(explore))
            state, z = _next(state)
            new_s, r = _env_step(s, a, z, slip, n, small, large)
            if method == NAIVE:
                q[s, a] += r
            else:
                best = max(q[new_s, 0], q[new_s, 1])
                if textbook:
                    q[s, a] += lr * (r + y * best - q[s, a])
                else:
                    q[s, a] += r + lr * (y * best - q[s, a])
            total += r
            s = new_s
        curve[e] = total
    return state


@njit(cache=True)
def run_game(q, steps, slip, n, small, large, state):
    """One greedy test game (``run_game`` of the tutorial); returns (return, rng state)."""
    s = 0
    total = 0.0
    for _ in range(steps):
        a = np.int64(q[s, 1] > q[s, 0])
        state, z = _next(state)
        s, r = _env_step(s, a, z, slip, n, small, large)
        total += r
    return total, state


@njit(cache=True, parallel=True)
def _play_rounds(seeds, textbook, episodes, steps, slip, n, small, large, lr, y, eps0, decay,
                 q_out, returns_out, curves_out):
    """Train and test every (round, method) pair of this batch, in parallel over pairs."""
    no_f = np.empty(0, np.float64)
    no_a = np.empty(0, np.int8)
    for job in prange(seeds.size):
        r, m = job // 3, job % 3
        state = seeds[job]
        state = train_table(m, textbook, q_out[r, m], episodes, steps, slip, n, small, large, lr, y,
                            eps0, decay, state, curves_out[r, m], no_f, no_a)
        total, state = run_game(q_out[r, m], steps, slip, n, small, large, state)
        returns_out[r, m] = total


@dataclass(frozen=True)
class TournamentResult:
    """Per-round outputs: test returns (R, 3), final tables (R, 3, n, 2), training curves (R, 3, E)."""

    returns: np.ndarray
    q: np.ndarray
    curves: np.ndarray


def pair_seeds(seed: int, rounds: int) -> np.ndarray:
    """One uint64 stream seed per (round, method), prefix-stable in ``rounds``."""
    return np.random.SeedSequence(seed).generate_state(3 * rounds, np.uint64)


def tournament(rounds: int = 100, episodes: int = 500, seed: int = 0, rule: str = "tutorial",
               steps: int = 1000, slip: float = 0.2, n: int = 5, small: float = 2.0, large: float = 10.0,
               lr: float = 0.8, y: float = 0.95, eps0: float = 0.5, decay: float = 0.999,
               progress: bool = False) -> TournamentResult:
    """Run the tutorial's ``test_methods``: ``rounds`` x (train 3 tables, one greedy game each).

    ``progress`` shows a tqdm bar (after 2 s) by running the rounds in batches.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    seeds = pair_seeds(seed, rounds)
    q = np.zeros((rounds, 3, n, 2))
    returns = np.zeros((rounds, 3))
    curves = np.zeros((rounds, 3, episodes))
    args = (rule == "textbook", episodes, steps, float(slip), n, float(small), float(large), float(lr),
            float(y), float(eps0), float(decay))
    if not progress:
        _play_rounds(seeds, *args, q, returns, curves)
    else:
        from tqdm import tqdm

        batch = max(25, rounds // 10)  # big batches keep both threads busy
        with tqdm(total=rounds, unit="round", delay=2.0) as bar:
            for lo in range(0, rounds, batch):
                hi = min(rounds, lo + batch)
                _play_rounds(seeds[3 * lo:3 * hi], *args, q[lo:hi], returns[lo:hi], curves[lo:hi])
                bar.update(hi - lo)
    return TournamentResult(returns, q, curves)


def winners(returns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per round: the tutorial's winner (``np.argmax``, first method wins a tie) and a tie flag."""
    returns = np.asarray(returns)
    best = returns.max(axis=1, keepdims=True)
    return returns.argmax(axis=1), (returns == best).sum(axis=1) > 1
