"""keras-rl2's DQNAgent on NChain and CartPole.

:mod:`~reproduce.kerasrl.config` (typed configs, light), :mod:`~reproduce.kerasrl.experiment` (the
experiment factory, light), :mod:`~reproduce.kerasrl.builders` (keras-rl objects from a config),
:mod:`~reproduce.kerasrl.agent` (``FastDQNAgent``), :mod:`~reproduce.kerasrl.replay`,
:mod:`~reproduce.kerasrl.training` (progress, solve checks) and :mod:`~reproduce.kerasrl.run` (one run).
Import the submodule you need: this package imports nothing, so configs load without TensorFlow.
"""
