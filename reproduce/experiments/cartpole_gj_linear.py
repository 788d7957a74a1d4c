"""``cartpole-gj-linear``: garethjns's linear Q agent on CartPole (reinforcement-learning-keras, 19c5fc2).

Clip to [-1, 1] -> StandardScaler -> three RBFSamplers (gamma 100, 1, 0.02; 60 components each) -> one
default ``SGDRegressor`` per action trained by ``partial_fit`` on each step's TD(0) target (-200 on
failure), eps 0.4 decayed by 1e-4 per action (floor 0.01), 1,000 episodes of at most 500 steps (one of
the published 10 repetitions per seed), run by :class:`reproduce.originals.garethjns_linear.FastLinearQ`
(numba; the same actions and weights to float rounding as the scikit-learn reference loop, tested).
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Experiment, Report
from reproduce.options import POSITIVE, option
from reproduce.originals.garethjns_source import source

NAME = "cartpole-gj-linear"
# The published LinearQAgent.png (10 reps x 1,000 episodes): its mean-score line, read off the figure's
# pixels (the line's mean height over +-25 episodes around each point).
PUBLISHED = {100: 27.0, 150: 43.0, 200: 78.0, 250: 130.0, 300: 151.0, 400: 186.0, 500: 194.0,
             600: 212.0, 800: 196.0, 1000: 206.0}
WINDOW = 50  # episodes around each point (upstream's 5% moving-average window)


@dataclass(frozen=True)
class Config:
    """The published run: 1,000 episodes of at most 500 steps."""

    episodes: int = option(1000, "training episodes (the published n_episodes)", check=POSITIVE)
    old_bounds: bool = option(
        True,
        "fit the scaler on samples of gym 0.17's observation box (float32.max velocity bounds), as "
        "published; false: gymnasium's box (inf bounds: N(0, 1) velocity samples)",
    )
    eval_episodes: int = option(100, "greedy test episodes after training", check=POSITIVE)
    seed: int = 0
    """seeds the env's resets, the epsilon and action draws, the scaler's samples and the RBF samplers"""


def run(config: Config, run_dir) -> dict:
    from reproduce.originals.garethjns_linear import FastLinearQ
    from reproduce.originals.garethjns_report import train_and_evaluate

    agent = FastLinearQ(config.seed, "cartpole", old_bounds=config.old_bounds)
    return train_and_evaluate(NAME, config, run_dir, agent, lambda a, each: a.train(config.episodes, each))


def published(runs) -> list[dict]:
    from reproduce.originals.garethjns_report import curve_verdicts

    return curve_verdicts(runs, NAME, "linear Q on CartPole mean score", PUBLISHED, WINDOW)


def _figure(runs, out_dir):
    from reproduce.originals.garethjns_report import figure

    return figure(NAME, "garethjns linear Q on CartPole", PUBLISHED, 10)(runs, out_dir)


LINEAR_DIFFERENCES = (
    "seeded streams (env resets, epsilon draws, action-space samples, the observation-space samples the "
    "scaler is fitted on, each RBFSampler's random_state) where upstream seeded nothing",
    "observations are the env's float64 state, as gym 0.17 returned them (gymnasium returns float32)",
    "scikit-learn 1.9 for 0.23: the pipeline is fitted on float64 copies of the float32 samples (0.23 "
    "fitted float64 RBF weights from any input; today's keeps float32); the Clipper sets its lim "
    "attribute before set_params (today's get_params requires it); predictions read as mod.predict(x)[0]",
    "the models' initialising partial_fit (target 0) sees a zero state, not a reset of another env: "
    "with zero weights it moves nothing either way",
    "the fast run (numba) replays the reference loop's draws: the same actions and returns, weights to "
    "~1e-15 (the pipeline's transform and SGDRegressor.partial_fit re-implemented, tested)",
    "one seed is one of the published repetitions; the report's curve pools the seeds as upstream's plot",
)

EXPERIMENT = Experiment(
    NAME,
    "garethjns's linear Q on CartPole (clip, scaler, 3 x 60 RBF features, an SGDRegressor per action), "
    "1,000 episodes, numba",
    Config,
    run,
    Report(
        "linear Q, RBF features (reinforcement-learning-keras)",
        table="solve",
        published=published,
        figures=(_figure,),
        source=source("agents/cart_pole/q_learning/linear_q_agent.py"),
        notes="Trained on CartPole-v0 with its 200-step limit removed and a 500-step loop cap (CartPole-v1's "
        "task); the greedy test runs CartPole-v1 and its threshold (475) decides solved. The published "
        f"curve is compared at a few episodes read from its figure (mean over {WINDOW} episodes around "
        "each). Not the package's cartpole-linear, which follows the Lazy Programmer's recipe.",
    ),
    differences=(
        "gymnasium's CartPole-v0 unwrapped (the same physics) for gym 0.17's with _max_episode_steps=inf; "
        "one env for the whole run where upstream's play_episode made a new one (new seed) every episode; "
        "the scaler's samples come from a Box with gym 0.17's bounds (float32.max on the velocities, so "
        "they clip to exactly +-1; --no-old-bounds: gymnasium's inf bounds)",
        *LINEAR_DIFFERENCES,
        "the greedy test takes the best action on CartPole-v1 (upstream's play_best plays one episode)",
        "not the package's cartpole-linear (the Lazy Programmer's recipe): that one has no clipper, fits "
        "its scaler on random-policy states, uses 4 x 500 RBF components (gamma 0.05, 1, 0.5, 0.1), a "
        "constant SGD rate 0.1, eps 1/sqrt(n + 1) per episode and CartPole-v1's own rewards (no -200 on "
        "failure); this one: 3 x 60 components (gamma 100, 1, 0.02) on clipped states, scaler fitted on "
        "observation-box samples, invscaling SGD (eta0 0.01, decaying per update), eps 0.4 x 0.9999 per "
        "action (floor 0.01), -200 on failure, a 500-step cap",
    ),
)
