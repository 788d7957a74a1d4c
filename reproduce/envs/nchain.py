"""NChain: the 5-state chain from old OpenAI gym, as a gymnasium env.

Faithful port of ``gym/envs/toy_text/nchain.py`` (removed from gym in 0.20), with
gymnasium's API: ``reset`` returns ``(obs, info)``, ``step`` returns the 5-tuple, all
randomness goes through ``self.np_random`` and the 1000-step limit comes from
``register(..., max_episode_steps=1000)``.
"""

from __future__ import annotations

import math

import gymnasium as gym
from gymnasium import spaces

FORWARD = 0
BACKWARD = 1


class NChainEnv(gym.Env):
    """A chain of ``n`` states; walking to the far end pays ``large``, giving up pays ``small``.

    ## Description
    The agent starts in state 0. Moving forward (action 0) advances one state and pays
    nothing, except in the last state, where it stays and is paid ``large``. Moving
    backward (action 1) pays ``small`` and returns the agent to state 0. With
    probability ``slip`` the environment flips the chosen action before applying it
    (one uniform draw per step). The optimal policy always moves forward.

    ## Action Space
    ``Discrete(2)``: 0 = forward, 1 = backward.

    ## Observation Space
    ``Discrete(n)``: the index of the current state.

    ## Rewards
    ``large`` for forward in the last state, ``small`` for backward, 0 otherwise
    (rewards follow the action actually taken, after any slip).

    ## Episode End
    The env never terminates; ``NChain-v0`` is truncated after 1000 steps by the
    ``TimeLimit`` wrapper, as old gym registered it.

    ## Version History
    * v0: old gym's NChain-v0 (n=5, slip=0.2, small=2, large=10), on gymnasium's API.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(
        self,
        n: int = 5,
        slip: float = 0.2,
        small: float = 2,
        large: float = 10,
        render_mode: str | None = None,
    ):
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ValueError(f"NChain n must be an integer >= 2, got {n!r}; pass e.g. n=5")
        if not isinstance(slip, (int, float)) or not 0.0 <= slip <= 1.0:
            raise ValueError(f"NChain slip must be a probability in [0, 1], got {slip!r}")
        for name, value in (("small", small), ("large", large)):
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"NChain {name} must be a finite number, got {value!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"NChain render_mode must be one of {self.metadata['render_modes']} or None, "
                f"got {render_mode!r}"
            )
        self.n = n
        self.slip = float(slip)
        self.small = small
        self.large = large
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(2)
        self.observation_space = spaces.Discrete(n)
        self.state = 0

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"NChain action must be 0 (forward) or 1 (backward), got {action!r}")
        slipped = bool(self.np_random.random() < self.slip)
        taken = int(action) ^ int(slipped)
        if taken == BACKWARD:
            reward = self.small
            self.state = 0
        elif self.state < self.n - 1:
            reward = 0
            self.state += 1
        else:
            reward = self.large
        return self.state, float(reward), False, False, {"slipped": slipped, "action_taken": taken}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.state = 0
        return self.state, {}

    def render(self):
        if self.render_mode == "ansi":
            return "".join("[A]" if i == self.state else "[ ]" for i in range(self.n))
        return None
