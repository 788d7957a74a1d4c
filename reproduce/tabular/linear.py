"""A handwritten linear baseline: Q-learning with one linear model per action on RBF features.

The Lazy Programmer's recipe (his second RL course, ``rl2/{cartpole,mountaincar}/q_learning.py``,
the "based on The Lazy Programmer's 2nd reinforcement learning course" agent the seed texts
mention): a scikit-learn ``StandardScaler`` fitted on sampled states, then a ``FeatureUnion``
of ``RBFSampler``\\ s (random Fourier features) with several kernel widths, and one
``SGDRegressor(learning_rate="constant")`` per action trained online with ``partial_fit``
towards the TD(0) target ``r + gamma * max_a Q(s', a)`` (``r`` alone on termination; a
time-limit truncation still bootstraps).

Choices, per environment (``DEFAULTS``):

- **Scaler samples.** MountainCar-v0's observation box is bounded, so 10,000 uniform draws
  from it, as the course does. CartPole's velocities are unbounded (uniform draws are
  meaningless: the course's own code notes this and draws from ``[-1, 1]^4`` instead), so we
  use 10,000 states visited by uniformly random episodes (whole episodes, seeded).
- **RBF widths.** Four samplers of 500 components each; gammas 0.05, 1.0, 0.5, 0.1 on
  CartPole (the course's CartPole widths) and 5.0, 2.0, 1.0, 0.5 on MountainCar (the course's
  MountainCar widths).
- **Exploration.** eps-greedy, decayed once per episode ``n`` (0-based) with the course's
  schedule for each env: ``1 / sqrt(n + 1)`` on CartPole, ``0.1 * 0.97 ** n`` on MountainCar
  (whose zero initial Q is optimistic for its -1 rewards, so little eps is needed).
- **Learning rate.** ``eta0`` 0.1 on CartPole (the rate of the course's hand-written CartPole
  SGD) and 0.01 on MountainCar (scikit-learn's default, which the course's MountainCar uses);
  on CartPole 0.01 and 0.03 learn far more slowly (``bench/results/cartpole_linear.txt``).
  ``SGDRegressor`` defaults otherwise (L2 ``alpha=1e-4``); discount 0.99.
  The models start at zero weights (one ``partial_fit`` towards 0, as the course does), so
  the first greedy choice is action 0 (``np.argmax`` ties).

Everything is seeded from one integer (``np.random.SeedSequence`` children for the state
sampler, each ``RBFSampler``, each ``SGDRegressor`` and the agent's eps draws); the env is
seeded on its first reset, so the same seed gives identical episode returns.

Where the course differs: CartPole-v0 (200 steps), a -200 reward on failure and a bootstrap
through termination, a hand-written SGD without L2 or intercept, 1,000 components per sampler
and scaler samples uniform on ``[-1, 1]^4``. We keep the env's rewards, stop the bootstrap only
on termination, and use scikit-learn's ``SGDRegressor`` and 500 components per sampler.

For speed, ``RBFFeatures.transform`` applies the fitted scaler and samplers as one affine map
and a cosine (``cos(s @ A + b) * sqrt(2 / n_components)``, the samplers' own formula); it
equals ``pipeline.transform`` to float rounding (tested) without its per-call input checks
(``bench/cartpole_linear.py`` times both); ``q_values`` likewise reads ``coef_``/``intercept_``.
The regressors are :class:`reproduce.tabular.sgd.FastSGDRegressor` (``SGDRegressor.partial_fit``'s
loop in numba, without scikit-learn's per-call validation); ``reference=True`` uses scikit-learn's
``SGDRegressor`` itself, the readable reference. The two give bit-identical weights and actions
(``tests/test_linear.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from reproduce.errors import ConfigError

CARTPOLE_ID = "CartPole-v1"
MOUNTAINCAR_ID = "MountainCar-v0"
EPS_SCHEDULES = ("inv-sqrt", "exp")


@dataclass(frozen=True)
class LinearQConfig:
    """Features, learner and exploration of the linear agent (see the module docstring)."""

    rbf_gammas: tuple[float, ...] = (0.05, 1.0, 0.5, 0.1)  #: one RBFSampler per kernel width
    n_components: int = 500  #: random Fourier features per sampler
    scaler_samples: int = 10_000  #: states the scaler and samplers are fitted on
    state_sampling: str = "episodes"  #: "episodes" (random-policy episodes) or "box" (uniform)
    eta0: float = 0.1  #: SGDRegressor's constant learning rate
    gamma: float = 0.99  #: discount
    eps_schedule: str = "inv-sqrt"  #: "inv-sqrt": 1/sqrt(n+1); "exp": 0.1 * 0.97**n


DEFAULTS = {
    CARTPOLE_ID: LinearQConfig(),
    MOUNTAINCAR_ID: LinearQConfig(rbf_gammas=(5.0, 2.0, 1.0, 0.5), state_sampling="box", eta0=0.01,
                                  eps_schedule="exp"),
}


def default_config(env_id: str, **overrides) -> LinearQConfig:
    """The documented defaults for ``env_id`` with ``overrides`` applied."""
    if env_id not in DEFAULTS:
        raise ConfigError(f"linear Q-learning has defaults for {sorted(DEFAULTS)}, got {env_id!r}; "
                          "pick one of those")
    return replace(DEFAULTS[env_id], **overrides)


def epsilon(episode: int, schedule: str) -> float:
    """Exploration rate of 0-based ``episode`` under the course's ``schedule``."""
    if schedule == "inv-sqrt":
        return 1.0 / math.sqrt(episode + 1)
    if schedule == "exp":
        return 0.1 * 0.97**episode
    raise ConfigError(f"eps_schedule must be one of {EPS_SCHEDULES}, got {schedule!r}; e.g. 'inv-sqrt'")


def sample_states(env, count: int, how: str, seed: int) -> np.ndarray:
    """``count`` states to fit the scaler on: uniform over the observation box, or visited by
    uniformly random episodes (for unbounded boxes such as CartPole's velocities)."""
    space = env.observation_space
    rng = np.random.default_rng(seed)
    if how == "box":
        if not space.is_bounded():
            raise ConfigError(f"state_sampling='box' needs a bounded observation space, {env.spec.id}'s is "
                              "not; use state_sampling='episodes'")
        return rng.uniform(space.low, space.high, size=(count, space.shape[0]))
    if how != "episodes":
        raise ConfigError(f"state_sampling must be 'episodes' or 'box', got {how!r}; e.g. 'episodes'")
    states = []
    obs, _ = env.reset(seed=int(rng.integers(2**31)))
    while len(states) < count:
        states.append(obs)
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        if terminated or truncated:
            obs, _ = env.reset()
    return np.asarray(states, dtype=float)


class RBFFeatures:
    """``StandardScaler`` + ``FeatureUnion`` of ``RBFSampler``\\ s, fitted on ``states``."""

    def __init__(self, states, gammas, n_components: int, seed: int):
        from sklearn.kernel_approximation import RBFSampler
        from sklearn.pipeline import FeatureUnion, make_pipeline
        from sklearn.preprocessing import StandardScaler

        seeds = np.random.SeedSequence(seed).generate_state(len(gammas))
        samplers = [(f"rbf{i}", RBFSampler(gamma=g, n_components=n_components, random_state=int(s)))
                    for i, (g, s) in enumerate(zip(gammas, seeds))]
        self.pipeline = make_pipeline(StandardScaler(), FeatureUnion(samplers)).fit(np.asarray(states))
        scaler, union = self.pipeline.steps[0][1], self.pipeline.steps[1][1]
        weights = np.hstack([r.random_weights_ for _, r in union.transformer_list])
        offsets = np.hstack([r.random_offset_ for _, r in union.transformer_list])
        self._a = weights / scaler.scale_[:, None]
        self._b = offsets - (scaler.mean_ / scaler.scale_) @ weights
        self._c = math.sqrt(2.0 / n_components)
        self.dimensions = weights.shape[1]

    def transform(self, observations) -> np.ndarray:
        """Features of a batch of observations (rows), as ``self.pipeline.transform`` gives them."""
        return np.cos(np.atleast_2d(observations) @ self._a + self._b) * self._c


class LinearQAgent:
    """One ``SGDRegressor`` per action over ``features``; eps-greedy ``act``, TD(0) ``update``.

    Methods take feature rows (``features.transform(obs)``), so each state is featurized once.
    """

    def __init__(self, features: RBFFeatures, n_actions: int, config: LinearQConfig, seed: int,
                 reference: bool = False):
        if reference:  # scikit-learn itself
            from sklearn.linear_model import SGDRegressor
        else:  # its partial_fit in numba, bit-identical for one row per call
            from reproduce.tabular.sgd import FastSGDRegressor as SGDRegressor

        self.features, self.config, self.reference = features, config, reference
        seeds = np.random.SeedSequence([seed, 1]).generate_state(n_actions)
        self.models = [SGDRegressor(learning_rate="constant", eta0=config.eta0, random_state=int(s))
                       for s in seeds]
        zero = np.zeros((1, features.dimensions))
        for m in self.models:
            m.partial_fit(zero, [0.0])
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))

    def q_values(self, x) -> np.ndarray:
        """Q of every action for one feature row (``predict`` of each model, without its checks)."""
        return np.array([float(x[0] @ m.coef_) + float(m.intercept_[0]) for m in self.models])

    def act(self, x, eps: float = 0.0) -> int:
        if eps > 0 and self.rng.random() < eps:
            return int(self.rng.integers(len(self.models)))
        return int(np.argmax(self.q_values(x)))

    def update(self, x, action: int, reward: float, x_next, terminated: bool) -> float:
        """One ``partial_fit`` of ``action``'s model towards the TD(0) target; returns the target."""
        target = reward if terminated else reward + self.config.gamma * float(np.max(self.q_values(x_next)))
        if self.reference:
            self.models[action].partial_fit(x, [target])
        else:  # the same update without the input conversion (x is already a float64 row)
            self.models[action].update(x, np.array([target]))
        return target


def make_agent(env, config: LinearQConfig | None = None, seed: int = 0,
               reference: bool = False) -> LinearQAgent:
    """Sample states from ``env``, fit the features and build the agent (defaults by env id);
    ``reference=True``: scikit-learn's ``SGDRegressor`` instead of its numba equal."""
    config = config or default_config(env.spec.id)
    if config.eps_schedule not in EPS_SCHEDULES:
        epsilon(0, config.eps_schedule)  # raises the ConfigError
    sample_seed, feature_seed = np.random.SeedSequence([seed, 0]).generate_state(2)
    states = sample_states(env, config.scaler_samples, config.state_sampling, int(sample_seed))
    features = RBFFeatures(states, config.rbf_gammas, config.n_components, int(feature_seed))
    return LinearQAgent(features, int(env.action_space.n), config, seed, reference)


def train(agent: LinearQAgent, env, episodes: int, seed: int, on_episode=None):
    """Train for ``episodes`` episodes; ``on_episode(t, return, length)`` after each."""
    for t in range(episodes):
        obs, _ = env.reset(seed=seed if t == 0 else None)
        x = agent.features.transform(obs)
        eps = epsilon(t, agent.config.eps_schedule)
        total, length, done = 0.0, 0, False
        while not done:
            action = agent.act(x, eps)
            obs, reward, terminated, truncated, _ = env.step(action)
            x_next = agent.features.transform(obs)
            agent.update(x, action, float(reward), x_next, terminated)
            x = x_next
            total += float(reward)
            length += 1
            done = terminated or truncated
        if on_episode is not None:
            on_episode(t, total, length)


def evaluate(agent: LinearQAgent, env_id: str, episodes: int, seed: int) -> list[tuple[float, int]]:
    """Greedy test episodes through the package's one evaluator (reset seeds ``seed, seed + 1, ...``)."""
    from reproduce.evaluation import greedy_episodes

    return greedy_episodes(lambda states: [agent.act(agent.features.transform(s[-1])) for s in states],
                           env_id, episodes, seed)

