"""garethjns's ``LinearQLearningAgent`` / ``LinearQAgent`` (agents/cart_pole/q_learning/linear_q_agent.py).

CartPole at commit 19c5fc2 (``scripts/run_linear_q_learner_cart_pole.py``: 10 reps x 1,000 episodes of at
most 500 steps) and MountainCar at 7264d6b (``agents/mountain_car/q_learning/linear_q_agent.py``, the same
class with ``env_spec="MountainCar-v0"``; ``scripts/experiment_linear_q_learner_mountain_car.py``: 6 reps x
500 episodes of at most 1,000 steps).

Published: the state goes through ``Pipeline([Clipper((-1, 1)), StandardScaler(), FeatureUnion([3 x
RBFSampler(gamma=100 | 1 | 0.02, n_components=60)])])``, fitted once on 10,000
``env.observation_space.sample()`` draws; one default ``SGDRegressor()`` per action (squared loss, L2
alpha 1e-4, ``invscaling`` eta0 0.01 power_t 0.25, intercept), each first ``partial_fit`` once on a reset
state towards 0 (which moves nothing but its step counter). Each step: ``EpsilonGreedy(0.4, decay=1e-4,
eps_min=0.01)`` (``eps = max(0.01, eps - eps * 1e-4)`` before every action, then ``random() < eps``
explores with ``action_space.sample()``; else the argmax of the two models' predictions, ties to action
0), then one ``partial_fit`` of the taken action's model on ``(s, g)``: ``g = -200`` if done, else ``r +
0.99 max_a Q(s', a)``. :func:`train_reference` runs that loop with scikit-learn.

Kept as published (named):

- **gym 0.17's observation bounds** (``old_bounds``, CartPole): the scaler's samples come from
  ``observation_space.sample()``, and gym 0.17's CartPole box had ``float32.max`` bounds on the two
  velocities where gymnasium has ``inf``. So the velocity samples were uniform on +-3.4e38, which the
  clipper maps to exactly +-1: the scaler sees binary velocities (std 1), and the cart position uniform on
  +-4.8 clipped (mostly +-1). Gymnasium's ``inf`` bounds would draw the velocities from N(0, 1) instead
  (std ~0.75 after clipping): ``old_bounds=False`` shows what a port that kept gymnasium's space gets.
- **float64 observations**: gym 0.17 returned ``np.array(self.state)`` (float64); gymnasium returns
  float32. The loop reads the env's float64 state (:func:`reproduce.originals.garethjns_mountaincar.observe`).
- **the clipper works in place**: ``Clipper.transform`` clips its input array, so the agent's
  observations are clipped as a side effect of predicting; harmless (every use goes through the same
  clip), kept.
- **MountainCar's done targets** (``quirks``): the subclass's ``_final_reward -> 500`` is dead code (this
  ``update_model`` hard-codes ``-200``), and ``play_episode`` sets ``env._max_episode_steps`` to the loop's
  cap, so the ``TimeLimit`` reports ``done`` on the 1,000th step: reaching the flag and running out of time
  both get the target -200. ``quirks=False``: the goal gets 500 and the cap bootstraps.
- eps decays on every training action (the docstring says on every random one).

:class:`FastLinearQ` is the same algorithm in numba: the pipeline's transform
(:func:`_features`, fitted by :func:`fit_features` with numpy to scikit-learn's numbers) and
``SGDRegressor.partial_fit`` on one sample (:func:`_sgd_step`: scikit-learn's ``_plain_sgd`` with its
``WeightVector`` scale/add/reset order), replaying the reference's draws (reset states, the EpsilonGreedy's
uniforms, the action-space samples). Equal to the reference in the tests: the same actions and returns,
weights to float tolerance (BLAS dot products sum in another order than the loops here).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numba
import numpy as np

from reproduce.originals import garethjns_mountaincar as mc
from reproduce.originals.garethjns import GAMMA, Stream, cartpole_step, reset_stream

# The features and the learner as published
RBF_GAMMAS = (100.0, 1.0, 0.02)
N_COMPONENTS = 60
SCALER_SAMPLES = 10_000
CLIP = (-1.0, 1.0)
EPS_INITIAL, EPS_DECAY, EPS_MIN = 0.4, 0.0001, 0.01
# SGDRegressor() defaults
ETA0, POWER_T, ALPHA, MAX_DLOSS = 0.01, 0.25, 0.0001, 1e12
DONE_TARGET = -200.0
MC_FINAL_REWARD = 500.0  # MountainCar's dead _final_reward (quirks=False uses it)

# gym 0.17's CartPole observation box (float32.max on the velocities) and gymnasium's (inf)
_THETA2 = 12 * 2 * math.pi / 360 * 2
_F32_MAX = np.finfo(np.float32).max
CARTPOLE_HIGH_GYM017 = np.array([4.8, _F32_MAX, _THETA2, _F32_MAX], np.float32)
CARTPOLE_HIGH_GYMNASIUM = np.array([4.8, np.inf, _THETA2, np.inf], np.float32)


@dataclass(frozen=True)
class Task:
    """What differs between the two envs the agent ran on."""

    name: str
    kind: int  # 0: CartPole physics, 1: MountainCar's
    n_obs: int
    n_actions: int
    max_steps: int
    reward: float


CARTPOLE = Task("CartPole", 0, 4, 2, 500, 1.0)
MOUNTAINCAR = Task("MountainCar", 1, 2, 3, mc.MAX_EPISODE_STEPS, -1.0)


def _task(task) -> Task:
    return {"cartpole": CARTPOLE, "mountaincar": MOUNTAINCAR}[task] if isinstance(task, str) else task


def done_rule(task: Task, quirks: bool) -> tuple[bool, float]:
    """(whether the step cap reports done, the target on done)."""
    if task.kind == 0:
        return False, DONE_TARGET  # CartPole: _max_episode_steps = inf, only failures end an episode
    return (True, DONE_TARGET) if quirks else (False, MC_FINAL_REWARD)


def scaler_samples(task: Task, seed: int, old_bounds: bool = True) -> np.ndarray:
    """The 10,000 ``observation_space.sample()`` draws the pipeline is fitted on (float32 as the space
    returns them; the space seeded with ``seed + 3``), as float64 (scikit-learn 0.23 fitted float64
    parameters whatever the input's precision; today's keeps float32)."""
    import gymnasium as gym

    if task.kind == 0:
        high = CARTPOLE_HIGH_GYM017 if old_bounds else CARTPOLE_HIGH_GYMNASIUM
        space = gym.spaces.Box(-high, high, dtype=np.float32)
    else:
        space = gym.spaces.Box(mc.OBS_LOW, mc.OBS_HIGH, dtype=np.float32)
    space.seed(seed + 3)
    return np.array([space.sample() for _ in range(SCALER_SAMPLES)]).astype(np.float64)


def rbf_seed(seed: int, k: int) -> int:
    """The k-th RBFSampler's ``random_state`` (upstream: the global ``np.random``, unseeded)."""
    return 40_000 + 3 * seed + k


def make_clipper(lim=CLIP):
    """The published ``Clipper`` transformer (clips in place)."""
    from sklearn.base import BaseEstimator, TransformerMixin

    class Clipper(BaseEstimator, TransformerMixin):
        def __init__(self, lim=(-1, 1)):
            self.lim = lim  # scikit-learn 0.23's get_params tolerated the missing attribute; today's not
            self.set_params(lim=lim)

        def fit(self, x=None, y=None):
            return self

        def transform(self, x):
            x[x < self.lim[0]] = self.lim[0]
            x[x > self.lim[1]] = self.lim[1]
            return x

    return Clipper(lim)


def build_pipeline(task: Task, seed: int, old_bounds: bool = True):
    """``_build_pp`` as published, fitted."""
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import StandardScaler

    fu = FeatureUnion(
        [
            (f"rbf{k}", RBFSampler(gamma=g, n_components=N_COMPONENTS, random_state=rbf_seed(seed, k)))
            for k, g in enumerate(RBF_GAMMAS)
        ]
    )
    pipe = Pipeline([("clip", make_clipper()), ("ss", StandardScaler()), ("rbfs", fu)])
    pipe.fit(scaler_samples(task, seed, old_bounds))
    return pipe


@dataclass
class Result:
    returns: np.ndarray
    actions: np.ndarray
    coef: np.ndarray  # (n_actions, 180)
    intercept: np.ndarray  # (n_actions,)
    seconds: float


def _make_env(task: Task):
    if task.kind == 0:
        from reproduce.originals.garethjns import make_env

        return make_env()
    return mc.make_env()


def train_reference(
    seed: int, episodes: int, task="cartpole", quirks: bool = True, old_bounds: bool = True,
    max_steps: int | None = None,
) -> Result:
    """The published ``train`` / ``play_episode`` / ``update_model`` loop with scikit-learn."""
    from sklearn.linear_model import SGDRegressor

    task = _task(task)
    max_steps = task.max_steps if max_steps is None else max_steps
    done_at_cap, done_target = done_rule(task, quirks)
    start = time.perf_counter()
    pp = build_pipeline(task, seed, old_bounds)
    env = _make_env(task)
    env.action_space.seed(seed + 2)
    eps_rng = np.random.RandomState(seed + 1)  # EpsilonGreedy's own RandomState
    eps = EPS_INITIAL

    def transform(s):
        return pp.transform(s.reshape(1, -1) if len(s.shape) == 1 else s)

    def predict(s) -> dict:
        x = transform(s)
        return {a: float(mod.predict(x)[0]) for a, mod in mods.items()}

    def get_best_action(s) -> int:
        best_value, best = -np.inf, 0
        for k, v in predict(s).items():
            if v > best_value:
                best_value, best = v, k
        return best

    # _build_model: one SGDRegressor per action, initialised by a partial_fit on a reset state towards 0
    # (the env's resets there are another env's upstream; here the state is a fixed one: it moves nothing)
    mods = {a: SGDRegressor() for a in range(task.n_actions)}
    for mod in mods.values():
        mod.partial_fit(transform(np.zeros(task.n_obs)), [0])

    returns, all_actions = [], []
    for episode in range(episodes):
        env.reset(seed=seed if episode == 0 else None)
        obs = mc.observe(env)
        total = 0.0
        for step in range(max_steps):
            eps = max(EPS_MIN, eps - eps * EPS_DECAY)
            if eps_rng.random() < eps:
                action = int(env.action_space.sample())
            else:
                action = get_best_action(obs)
            prev_obs = obs
            _, reward, terminated, _, _ = env.step(action)
            obs = mc.observe(env)
            done = terminated or (done_at_cap and step == max_steps - 1)
            total += reward
            all_actions.append(action)
            # update_model
            if done:
                g = done_target
            else:
                g = reward + GAMMA * np.max(list(predict(obs).values()))
            mods[action].partial_fit(transform(prev_obs), [g])
            if done:
                break
        returns.append(total)
    coef = np.vstack([mods[a].coef_ for a in range(task.n_actions)])
    intercept = np.concatenate([mods[a].intercept_ for a in range(task.n_actions)])
    return Result(np.array(returns), np.array(all_actions), coef, intercept, time.perf_counter() - start)


def fit_features(task: Task, seed: int, old_bounds: bool = True):
    """The fitted pipeline's numbers with numpy: the clipped samples' mean and std (StandardScaler) and
    each RBFSampler's ``sqrt(2 gamma) N(0, 1)`` weights and ``U(0, 2 pi)`` offsets, concatenated."""
    samples = np.clip(scaler_samples(task, seed, old_bounds), *CLIP)
    mean = samples.mean(axis=0)
    scale = np.sqrt(((samples - mean) ** 2).mean(axis=0))
    weights, offsets = [], []
    for k, g in enumerate(RBF_GAMMAS):
        rs = np.random.RandomState(rbf_seed(seed, k))
        weights.append((2.0 * g) ** 0.5 * rs.normal(size=(task.n_obs, N_COMPONENTS)))
        offsets.append(rs.uniform(0, 2 * np.pi, size=N_COMPONENTS))
    return mean, scale, np.hstack(weights), np.concatenate(offsets)


NORM = (2.0 / N_COMPONENTS) ** 0.5  # RBFSampler.transform's factor


@numba.njit(cache=True)
def _features(obs, mean, scale, weights, offset, out):
    """The pipeline's transform of one state: clip to [-1, 1], standardise, ``cos(z W + b) sqrt(2/60)``."""
    d = obs.size
    z = np.empty(d)
    for j in range(d):
        v = obs[j]
        if v < -1.0:
            v = -1.0
        if v > 1.0:
            v = 1.0
        z[j] = (v - mean[j]) / scale[j]
    for c in range(out.size):
        s = 0.0
        for j in range(d):
            s += z[j] * weights[j, c]
        s += offset[c]
        out[c] = math.cos(s) * NORM


@numba.njit(cache=True)
def _q(coef, intercept, x, a):
    p = 0.0
    for j in range(x.size):
        p += coef[a, j] * x[j]
    return p + intercept[a]


@numba.njit(cache=True)
def _sgd_step(coef, intercept, t, a, x, y):
    """``SGDRegressor().partial_fit(x, [y])`` on model ``a`` (scikit-learn's ``_plain_sgd``, one sample:
    squared loss, L2 through the weight scale, invscaling rate, intercept). False if it overflowed
    (scikit-learn raises)."""
    p = 0.0
    for j in range(x.size):
        p += coef[a, j] * x[j]
    p = p * 1.0 + intercept[a]
    eta = ETA0 / t[a] ** POWER_T
    dloss = p - y
    if dloss < -MAX_DLOSS:
        dloss = -MAX_DLOSS
    elif dloss > MAX_DLOSS:
        dloss = MAX_DLOSS
    update = -eta * dloss
    wscale = max(0.0, 1.0 - ((1.0 - 0.0) * eta * ALPHA))
    if wscale < 1e-9:
        for j in range(x.size):
            coef[a, j] *= wscale
        wscale = 1.0
    if update != 0.0:
        for j in range(x.size):
            coef[a, j] += x[j] * (update / wscale)
        intercept[a] += update * 1.0
    t[a] += 1.0
    ok = np.isfinite(intercept[a])
    for j in range(x.size):
        ok = ok and np.isfinite(coef[a, j])
        coef[a, j] *= wscale
    return ok


@numba.njit(cache=True)
def _episode(
    kind, start, coef, intercept, t, eps, uniforms, explore, mean, scale, weights, offset,
    max_steps, reward, done_at_cap, done_target, actions_out,
):
    """One training episode. Returns (steps, eps, explores used, ok)."""
    state = start.copy()
    x = np.empty(offset.size)
    x_next = np.empty(offset.size)
    _features(state, mean, scale, weights, offset, x)
    n_actions = coef.shape[0]
    k_explore = 0
    for step in range(max_steps):
        eps = max(EPS_MIN, eps - eps * EPS_DECAY)
        if uniforms[step] < eps:
            action = explore[k_explore]
            k_explore += 1
        else:
            best_value, action = -np.inf, 0
            for a in range(n_actions):
                v = _q(coef, intercept, x, a)
                if v > best_value:
                    best_value, action = v, a
        actions_out[step] = action
        if kind == 0:
            terminated = cartpole_step(state, action)
        else:
            terminated = mc.mountaincar_step(state, action)
        done = terminated or (done_at_cap and step == max_steps - 1)
        _features(state, mean, scale, weights, offset, x_next)
        if done:
            g = done_target
        else:
            best = _q(coef, intercept, x_next, 0)
            for a in range(1, n_actions):
                best = max(best, _q(coef, intercept, x_next, a))
            g = reward + GAMMA * best
        if not _sgd_step(coef, intercept, t, action, x, g):
            return step + 1, eps, k_explore, False
        x, x_next = x_next, x
        if done:
            return step + 1, eps, k_explore, True
    return max_steps, eps, k_explore, True


class FastLinearQ:
    """:func:`train_reference`'s algorithm and draws in numba, one episode per call."""

    def __init__(self, seed: int, task="cartpole", quirks: bool = True, old_bounds: bool = True,
                 max_steps: int | None = None):
        self.task = _task(task)
        self.seed, self.quirks = seed, quirks
        self.max_steps = self.task.max_steps if max_steps is None else max_steps
        self.done_at_cap, self.done_target = done_rule(self.task, quirks)
        self.mean, self.scale, self.weights, self.offset = fit_features(self.task, seed, old_bounds)
        n = len(self.offset)
        self.coef = np.zeros((self.task.n_actions, n))
        self.intercept = np.zeros(self.task.n_actions)
        self.t = np.full(self.task.n_actions, 2.0)  # after the initialising partial_fit
        self.eps = EPS_INITIAL
        self.resets = reset_stream(seed) if self.task.kind == 0 else mc.reset_stream(seed)
        eps_rng, action_rng = np.random.RandomState(seed + 1), np.random.default_rng(seed + 2)
        n_actions = self.task.n_actions
        self.uniforms = Stream(eps_rng, eps_rng.random_sample, 8192)
        self.explore = Stream(action_rng, lambda k: action_rng.integers(n_actions, size=k), 2048)
        self._actions = np.empty(self.max_steps, dtype=np.int64)

    def episode_run(self) -> tuple[float, np.ndarray]:
        start = self.resets.ahead(1)[0]
        self.resets.take(1)
        n, self.eps, used, ok = _episode(
            self.task.kind, start, self.coef, self.intercept, self.t, self.eps,
            self.uniforms.ahead(self.max_steps), self.explore.ahead(self.max_steps),
            self.mean, self.scale, self.weights, self.offset, self.max_steps, self.task.reward,
            self.done_at_cap, self.done_target, self._actions,
        )
        if not ok:
            raise ValueError("Floating-point under-/overflow in partial_fit (scikit-learn's error)")
        self.uniforms.take(n)
        self.explore.take(used)
        return float(n) * self.task.reward, self._actions[:n].copy()

    def train(self, episodes: int, on_episode=None) -> Result:
        start = time.perf_counter()
        returns, actions = [], []
        for episode in range(episodes):
            total, acts = self.episode_run()
            returns.append(total)
            actions.append(acts)
            if on_episode is not None:
                on_episode(episode + 1, total)
        return Result(
            np.array(returns),
            np.concatenate(actions) if actions else np.zeros(0, int),
            self.coef.copy(),
            self.intercept.copy(),
            time.perf_counter() - start,
        )

    def q_values(self, obs) -> np.ndarray:
        x = np.empty(len(self.offset))
        _features(np.asarray(obs, dtype=np.float64), self.mean, self.scale, self.weights, self.offset, x)
        return np.array([_q(self.coef, self.intercept, x, a) for a in range(self.task.n_actions)])

    def greedy(self, states) -> list[int]:
        return [int(np.argmax(self.q_values(s[-1]))) for s in states]
