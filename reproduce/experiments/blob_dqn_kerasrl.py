"""``blob-dqn-kerasrl``: sentdex's part 6 image DQN, the same network and settings in keras-rl's ``DQNAgent``.

``blob-dqn`` replays the tutorial's own loop; here keras-rl runs it (FastDQNAgent: keras-rl's update
through direct session calls) on ``BlobImage-v0`` (``Blob-v0`` with part 6's rules): Conv(256, 3x3) ->
relu -> MaxPool(2) -> Dropout(0.2), twice, Dense(64) -> Dense(9) on the image / 255, squared error,
Adam 1e-3, ``SequentialMemory(limit=50000)``, training from step 1,000 (``nb_steps_warmup``), minibatch
64, gamma 0.99, one gradient step per env step, the 200-step limit a terminal (the tutorial's quirk).

Two settings keras-rl counts in steps where the tutorial counts episodes:

- **Exploration**: epsilon starts at 1 and is multiplied by 0.99975 after every episode, floored at 0.001,
  as published: keras-rl's ``EpsGreedyQPolicy`` whose ``eps`` the run's processor multiplies when a step
  ends an episode (:func:`episode_schedule`). The processor also ends training once ``--episodes`` have
  finished (keras-rl's ``fit`` counts steps only; ``--steps`` is the cap).
- **Target network**: the tutorial copies it after more than 5 terminal episodes (every 6th episode end);
  keras-rl's ``target_model_update=460`` copies it every 460 steps: 6 episodes of 76.5 steps, the mean
  episode length at epsilon 1 (random play, 2,000 episodes: see docs/originals/blob.md). As episodes
  shorten with learning, the copies come every more episodes than 6.

Scored like ``blob-dqn``: greedy test episodes after training against the exact optimum of the same env.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from reproduce.contract import Column, Report
from reproduce.errors import ConfigError
from reproduce.experiments.blob_dqn import SOURCE
from reproduce.kerasrl.config import DQNConfig, DQNRunConfig, PolicyConfig
from reproduce.kerasrl.experiment import Hooks, kerasrl_experiment
from reproduce.options import ENV_ID, POSITIVE, nested, option
from reproduce.originals.blob_settings import STATS_EVERY, Settings
from reproduce.runs import RunDir

NAME = "blob-dqn-kerasrl"
TUTORIAL = Settings()
EPISODES = TUTORIAL.episodes
EPSILON_DECAY, MIN_EPSILON = TUTORIAL.epsilon_decay, TUTORIAL.min_epsilon  # per episode, as published
TARGET_EVERY = 460  # steps: 6 episodes x 76.5 steps (mean length at epsilon 1)
SENTDEX_DQN = DQNConfig(
    memory_limit=TUTORIAL.replay_size, window_length=1, batch_size=TUTORIAL.minibatch,
    gamma=TUTORIAL.discount, nb_steps_warmup=TUTORIAL.min_replay,
    policy=PolicyConfig("eps-greedy", eps=TUTORIAL.epsilon), test_policy=PolicyConfig("greedy"),
    target_model_update=TARGET_EVERY, optimizer="adam", learning_rate=TUTORIAL.learning_rate,
    train_interval=1, fast=True,
)
"""The tutorial's settings; ``policy`` is the starting epsilon of the per-episode schedule."""
COLUMNS = (
    Column("episodes", "train_episodes", 0),
    Column("training reward, last 50 episodes", "last_stats_avg", 1),
    Column("epsilon at the end", "final_epsilon", 3),
)
NOTES = (
    "keras-rl's DQNAgent with sentdex part 6's network and settings on BlobImage-v0 (Blob-v0 with part 6's "
    "rules): epsilon decays per episode as published, the target network is copied every 460 steps (keras-rl "
    "counts steps; the tutorial every 6 episodes). 'greedy return' is the mean of the greedy test episodes "
    "after training, the optimum the exact best expected return of the same env. `reproduce all` trains "
    "the first episodes of the tutorial's 20,000 only."
)


@dataclass(frozen=True)
class Config(DQNRunConfig):
    """The tutorial's 20,000 episodes (``--episodes``), then 100 greedy test episodes."""

    env: str = option("BlobImage-v0", "gymnasium env id (Blob-v0 with part 6's rules: 9 actions, images)",
                      check=ENV_ID)
    episodes: int = option(EPISODES, "training episodes (the tutorial: 20,000)", check=POSITIVE)
    steps: int = option(200 * EPISODES, "training steps at most (keras-rl fit nb_steps; default: "
                        "200-step episodes throughout)", check=POSITIVE)
    checkpoint_every: int = option(10_000, "steps between checkpoints (replay memory included)",
                                   check=POSITIVE)
    dqn: DQNConfig = nested(lambda: SENTDEX_DQN)


def check(config: Config) -> None:
    """The network takes one 10 x 10 x 3 image per state (window 1); epsilon decays on an eps-greedy
    policy."""
    import gymnasium as gym

    import reproduce.envs  # noqa: F401  (registers BlobImage-v0)

    space = gym.spec(config.env).make().observation_space
    if tuple(getattr(space, "shape", None) or ()) != (10, 10, 3):
        raise ConfigError(f"{NAME}'s network takes 10 x 10 x 3 images: {config.env} observes {space}; "
                          f"pass --env BlobImage-v0")
    if config.dqn.window_length != 1:
        raise ConfigError(f"{NAME} feeds one image per state: expected window_length 1, received "
                          f"{config.dqn.window_length}; leave window_length at 1")
    if config.dqn.policy.name != "eps-greedy":
        raise ConfigError(f"{NAME} decays epsilon per episode on an eps-greedy policy: expected --policy "
                          f"eps-greedy, received {config.dqn.policy.name!r}; pass --policy eps-greedy")


def episode_schedule(episodes: int, eps: float = 1.0, finished: int = 0):
    """``(policy, processor)``: the tutorial's per-episode epsilon on keras-rl's ``EpsGreedyQPolicy``.

    keras-rl's ``fit`` gives a policy no episode end; its processor sees every step's ``done``. The
    processor multiplies the policy's ``eps`` by 0.99975 (floored at 0.001) when a step ends an episode,
    as the tutorial does after each episode, and raises :class:`~reproduce.kerasrl.training.StopTraining`
    when the episode after the ``episodes``-th would start (training only: the greedy test passes).
    It also scales the uint8 image to [0, 1] for the network (the tutorial's ``state / 255``). ``eps``
    and ``finished`` continue a resumed run.
    """
    import numpy as np
    from rl.core import Processor
    from rl.policy import EpsGreedyQPolicy

    from reproduce.kerasrl.training import StopTraining

    class EpisodeEpsGreedyQPolicy(EpsGreedyQPolicy):
        """EpsGreedyQPolicy whose eps falls by a factor per finished episode, down to a floor."""

        def end_episode(self):
            if self.eps > MIN_EPSILON:
                self.eps = max(MIN_EPSILON, self.eps * EPSILON_DECAY)

    class EpisodeScheduleProcessor(Processor):
        """Decays the policy's eps after each episode, ends training after ``episodes``; images / 255."""

        def __init__(self):
            self.finished = finished
            self.agent = None

        def process_step(self, observation, reward, done, info):
            if done:
                self.finished += 1
                policy.end_episode()
            return observation, reward, done, info

        def process_observation(self, observation):
            if self.agent is not None and self.agent.training and self.finished >= episodes:
                raise StopTraining(f"{episodes} episodes")
            return observation

        def process_state_batch(self, batch):
            return np.asarray(batch, dtype=np.float32) / np.float32(255.0)

    policy = EpisodeEpsGreedyQPolicy(eps=eps)
    return policy, EpisodeScheduleProcessor()


def build(config: Config, env, processor=None, resumed: tuple[float, int] | None = None):
    """The tutorial's network in a compiled DQNAgent, with the per-episode epsilon schedule."""
    import tensorflow as tf

    from reproduce.kerasrl.builders import build_agent

    dqn, layers = config.dqn, tf.keras.layers
    shape, actions = tuple(env.observation_space.shape), int(env.action_space.n)
    def block():  # Conv2D(256, (3, 3)) -> Activation('relu') -> MaxPooling2D((2, 2)) -> Dropout(0.2)
        return [layers.Conv2D(256, (3, 3)), layers.Activation("relu"), layers.MaxPooling2D((2, 2)),
                layers.Dropout(0.2)]

    model = tf.keras.Sequential([
        layers.Reshape(shape, input_shape=(dqn.window_length, *shape)), *block(), *block(),
        layers.Flatten(), layers.Dense(64), layers.Dense(actions, activation="linear"),
    ])
    eps, finished = resumed if resumed is not None else (dqn.policy.eps, 0)
    policy, schedule = episode_schedule(config.episodes, eps, finished)
    agent = build_agent(dqn, actions, shape, model=model, policy=policy, processor=schedule)
    schedule.agent = agent
    return agent


def training_numbers(agent, run, config: Config) -> dict:
    """After training: the tutorial's stats (last 50 episodes), epsilon, the optimum and the step cost."""
    import numpy as np

    from callbacks import load_rewards
    from reproduce.envs.blob_solver import PART6_OPTIMUM

    episodes = load_rewards(run.file(RunDir.EPISODES))
    last = episodes.r.to_numpy()[-STATS_EVERY:]
    mean = float(run.summary.eval_mean)
    # the cost of a training step: between the first episode end after the warm-up and the last
    trained = episodes[episodes.total_steps > config.dqn.nb_steps_warmup]
    steps = int(trained.total_steps.iat[-1] - trained.total_steps.iat[0]) if len(trained) > 1 else 0
    per_step = 1000 * float(trained.t.iat[-1] - trained.t.iat[0]) / steps if steps else None
    return {
        "episodes": len(episodes), "mean_return": mean, "optimal_return": PART6_OPTIMUM,
        "regret": PART6_OPTIMUM - mean, "last_stats_avg": float(np.mean(last)) if len(last) else None,
        "final_epsilon": float(agent.policy.eps), "target_model_update": config.dqn.target_model_update,
        "ms_per_train_step": per_step,
    }


HOOKS = Hooks(build=build, after_training=training_numbers)


def resume(run_dir) -> dict:
    """``--resume``: the runner's, with the schedule (epsilon, finished episodes) of the newest good
    checkpoint."""
    from callbacks import CheckpointError
    from callbacks.resume import load_checkpoint
    from reproduce.kerasrl import run as runner

    config = runner.load_run_config(NAME, Config, run_dir)
    try:
        _, state, _ = load_checkpoint(Path(run_dir) / RunDir.CHECKPOINTS)
        resumed = (float(state["policy"]["eps"]), int(state["episode"]))
    except (CheckpointError, KeyError, TypeError):
        resumed = None  # the runner's own resume says what is wrong
    hooks = dataclasses.replace(HOOKS, build=partial(build, resumed=resumed))
    return runner.train(NAME, config, run_dir, hooks, resume=True)


EXPERIMENT = dataclasses.replace(
    kerasrl_experiment(
        NAME, "sentdex part 6: the image DQN's network and settings in keras-rl's DQNAgent",
        Config,
        Report("keras-rl DQNAgent, sentdex part 6 settings", table="optimum", columns=COLUMNS, notes=NOTES,
               source=SOURCE),
        hooks=HOOKS, check=check,
        differences=(
            "keras-rl copies the target network every 460 steps (target_model_update=460: 6 episodes of "
            "76.5 steps, the mean length at epsilon 1); the tutorial copies it after every 6th episode end "
            "once training has started",
            "epsilon decays per episode as published, through the run's keras-rl processor (it sees each "
            "step's done) on EpsGreedyQPolicy; keras-rl's fit counts steps, so the processor also ends "
            "training after --episodes",
            "keras-rl trains from step 1,001 (nb_steps_warmup=1000) where the tutorial trains once 1,000 "
            "transitions are stored; its replay samples without replacement through SequentialMemory and "
            "stores one extra transition after each episode end (keras-rl2's fit)",
            "the loss is keras-rl's 0.5 (Q - target)^2 on the action taken, averaged over the batch; the "
            "tutorial's Keras mse averages over the batch and all 9 outputs (the others with zero error): "
            "gradients 4.5 times larger, which Adam's normalisation all but cancels",
            "Keras's own initial weights and dropout masks (TensorFlow's generators); keras-rl's policy "
            "draws from numpy's global generator. A resumed run continues the schedule exactly (epsilon, "
            "episodes, replay, weights, Adam) but draws new dropout masks: TensorFlow's generator restarts "
            "with the session, so it is not bit-identical to an uninterrupted run",
            "`reproduce all` runs the first episodes of the 20,000 (the full run: --episodes 20000, the "
            "default, estimated in docs/originals/blob.md)",
        ),
    ),
    resume=resume,
)
