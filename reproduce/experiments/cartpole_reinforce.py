"""``cartpole-reinforce``: garethjns's REINFORCE agent on CartPole (reinforcement-learning-keras, 19c5fc2).

Dense 24 -> 12 (relu) -> softmax, Adam 1e-3, one update per episode on the normalised discounted
return through the published target trick, 1,000 episodes (one of the published 5 repetitions per
seed), run by :class:`reproduce.originals.garethjns_reinforce.FastReinforce` (numba; same actions and
weights to 1e-5 as the tf-keras reference loop, tested). Through the package's callbacks: a Monitor
CSV per episode and arrays-state checkpoints every ``--checkpoint-every`` episodes, resumable
(``reproduce run cartpole-reinforce --resume RUN_DIR``).
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Experiment, Report
from reproduce.options import NON_NEGATIVE, POSITIVE, option
from reproduce.originals.garethjns_source import source

NAME = "cartpole-reinforce"
# The published REINFORCEAgent.png (5 reps x 1,000 episodes): its mean-score line read by eye.
PUBLISHED = {100: 30.0, 250: 40.0, 400: 100.0, 550: 200.0, 700: 280.0, 900: 350.0, 1000: 370.0}
WINDOW = 50  # episodes around each point (upstream's 5% moving-average window)


@dataclass(frozen=True)
class Config:
    """The published run: 1,000 episodes of at most 500 steps."""

    episodes: int = option(1000, "training episodes (the published n_episodes)", check=POSITIVE)
    quirks: bool = option(
        True, "the published target trick (y = p + 0.001 (onehot - p) G); false: plain REINFORCE"
    )
    checkpoint_every: int = option(
        250, "episodes between arrays-state checkpoints (0: none)", check=NON_NEGATIVE
    )
    eval_episodes: int = option(100, "greedy test episodes after training", check=POSITIVE)
    seed: int = 0
    """seeds the env's resets and the action draws (upstream's global np.random) and the initial weights"""


def _train(config, checkpoints, done: int = 0):
    from callbacks.store import save_arrays_state

    def train(agent, on_episode):
        def each(episode, total):
            on_episode(episode, total)
            if (
                config.checkpoint_every
                and episode % config.checkpoint_every == 0
                and episode < config.episodes
            ):
                arrays, state = agent.arrays_state()
                save_arrays_state(checkpoints, episode, arrays, state)

        return agent.train(config.episodes - done, each)

    return train


def run(config: Config, run_dir) -> dict:
    from reproduce.originals.garethjns_reinforce import FastReinforce
    from reproduce.originals.garethjns_report import train_and_evaluate
    from reproduce.runs import RunDir

    agent = FastReinforce(config.seed, config.quirks)
    return train_and_evaluate(
        NAME, config, run_dir, agent, _train(config, RunDir(run_dir).file(RunDir.CHECKPOINTS))
    )


def resume(run_dir) -> dict:
    """Continue from the newest good checkpoint: the episode log cut back to it, the agent and its
    random streams restored, the remaining episodes run."""
    from callbacks.store import newest_good
    from reproduce.originals.garethjns_reinforce import FastReinforce
    from reproduce.originals.garethjns_report import train_and_evaluate
    from reproduce.runs import RunDir, read_json

    rd = RunDir(run_dir)
    stored = {
        k: v for k, v in read_json(rd.file(RunDir.CONFIG)).items() if k in Config.__dataclass_fields__
    }
    config = Config(**stored)
    _, state, arrays = newest_good(run_dir)
    agent = FastReinforce.from_state(state, arrays)
    lines = rd.file(RunDir.EPISODES).read_text().splitlines(keepends=True)
    rd.file(RunDir.EPISODES).write_text("".join(lines[: 2 + agent.episode]))
    return train_and_evaluate(
        NAME,
        config,
        run_dir,
        agent,
        _train(config, rd.file(RunDir.CHECKPOINTS), agent.episode),
        resume_state=state,
    )


def published(runs) -> list[dict]:
    from reproduce.originals.garethjns_report import curve_verdicts

    return curve_verdicts(runs, NAME, "REINFORCE mean score", PUBLISHED, WINDOW)


def _figure(runs, out_dir):
    from reproduce.originals.garethjns_report import figure

    return figure(NAME, "garethjns REINFORCE on CartPole", PUBLISHED, 5)(runs, out_dir)


EXPERIMENT = Experiment(
    NAME,
    "garethjns's REINFORCE on CartPole (Dense 24-12, softmax, Adam 1e-3), 1,000 episodes, numba",
    Config,
    run,
    Report(
        "REINFORCE (reinforcement-learning-keras)",
        table="solve",
        published=published,
        figures=(_figure,),
        source=source("agents/cart_pole/policy_gradient/reinforce_agent.py"),
        notes="Trained on CartPole-v0 with its 200-step limit removed and a 500-step loop cap, which is "
        "CartPole-v1's task; so the greedy test runs CartPole-v1 and its threshold (475) decides "
        "solved. The published curve is compared at a few episodes read from its figure "
        "(mean over 50 episodes around each).",
    ),
    resume=resume,
    differences=(
        "seeded streams (env resets, action draws, initial weights) where upstream seeded nothing; "
        "gymnasium's CartPole-v0 unwrapped (same physics, float32 observations) for gym 0.17's with "
        "_max_episode_steps=inf",
        "initial weights drawn by numpy with Keras's glorot-uniform/zeros rule and set on the model",
        "K.one_hot's tensor arithmetic done in float32 numpy (the package runs Keras in graph mode); Adam is "
        "tf-keras's legacy class there (the same update)",
        "the fast run (numba, float64) replays the reference loop's draws: same actions, weights to ~1e-5",
        "the greedy test takes the most probable action (upstream's play_best samples one episode)",
        "one seed is one of the published repetitions; the report's curve pools the seeds as upstream's plot",
    ),
)
