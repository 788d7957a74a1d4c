"""keras-rl2's DQNAgent on NChain and CartPole.

:mod:`~reproduce.dqn.config` (typed configs, light), :mod:`~reproduce.dqn.experiment` (the
experiment factory, light), :mod:`~reproduce.dqn.builders` (keras-rl objects from a config),
:mod:`~reproduce.dqn.agent` (``FastDQNAgent``), :mod:`~reproduce.dqn.replay`,
:mod:`~reproduce.dqn.training` (progress, solve checks) and :mod:`~reproduce.dqn.run` (one run).
Import the submodule you need: this package imports nothing, so configs load without TensorFlow.
"""
