"""Handwritten tabular baselines: the NChain tutorial's three table methods and a CartPole Q-table.

- :mod:`reproduce.tabular.agents`: the tutorial's per-step loops, on the real ``NChain-v0``
  (the readable reference);
- :mod:`reproduce.tabular.engine`: the same rules compiled with numba (the 100-round tournament);
- :mod:`reproduce.tabular.cartpole`: eps-greedy Q-learning on a bucketed CartPole state;
- :mod:`reproduce.tabular.linear`: Q-learning with a linear model per action on RBF features
  (the Lazy Programmer's baseline).
"""
