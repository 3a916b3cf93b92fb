"""Environments: make and seed in one call, the course's grid world, tabular models of toy-text envs.

Gymnasium's API, as every chapter uses it::

    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(action)

``terminated`` means the task ended (goal, hole, pole fell): the return stops there, no bootstrap.
``truncated`` means a time limit cut the episode: the next state still has a value, so bootstrap.
"""
from __future__ import annotations

import difflib
from typing import Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

LEFT, DOWN, RIGHT, UP = 0, 1, 2, 3
#: (row, column) change for each action, in FrozenLake's order: left, down, right, up.
MOVES = {LEFT: (0, -1), DOWN: (1, 0), RIGHT: (0, 1), UP: (-1, 0)}

#: The "solved" level of each benchmark task, in undiscounted episode return: a run counts as solved at
#: its first greedy evaluation whose mean return is at least this. Where the numbers come from:
#:
#: - CartPole-v1, 475: Gymnasium's own ``reward_threshold`` (``gym.spec("CartPole-v1").reward_threshold``),
#:   95% of the 500-step time limit at +1 per step.
#: - Acrobot-v1, -100: Gymnasium's ``reward_threshold`` too: the free end raised within about 100 steps
#:   (-1 per step, time limit 500).
#: - Pendulum-v1, -200: the course's choice. Gymnasium gives Pendulum-v1 no ``reward_threshold`` (``None``);
#:   -200 over its 200 steps (each costing between 0 and -16.3) means a swing-up and then balancing
#:   upright, the level commonly used for this task.
#:
#: Plots draw it as the dashed "solved" line, ``TrainingLogger(threshold=...)`` records its first crossing.
SOLVED_RETURN = {"CartPole-v1": 475.0, "Acrobot-v1": -100.0, "Pendulum-v1": -200.0}

DEFAULT_MAP = (
    "S...",
    ".#.H",
    "...H",
    "H..G",
)


def make_env(env_id: str, seed: int | None = None, **kwargs) -> gym.Env:
    """``gym.make(env_id, **kwargs)``, seeded: the first reset, the action and observation spaces.

    Args:
        env_id: a registered id such as ``"CartPole-v1"`` or ``"course/GridWorld-v0"``.
        seed: seeds the environment's generator (through one ``reset(seed=seed)``) and its spaces,
            so that ``env.action_space.sample()`` is reproducible too. ``None`` leaves them random.
        **kwargs: passed to ``gym.make`` (``render_mode="rgb_array"``, ``is_slippery=False``, ...).

    Raises:
        ValueError: for an unknown id, naming the closest registered ids.
    """
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"Unknown environment id {env_id!r}.{hint} "
                         "Registered ids are listed by gymnasium.pprint_registry().")
    env = gym.make(env_id, **kwargs)
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
        env.observation_space.seed(seed)
    return env


class GridWorld(gym.Env):
    """A small grid world: reach ``G`` without falling into a hole ``H``; ``#`` is a wall.

    The map is a list of equal-length strings: ``S`` start, ``G`` goal (reward ``goal_reward``,
    terminated), ``H`` hole (reward ``hole_reward``, terminated), ``#`` wall (moving into it, or off
    the grid, leaves the agent in place), ``.`` floor (reward ``step_reward``).

    With probability ``slip`` the chosen move is replaced by one of the two perpendicular moves
    (each half of ``slip``), as on an icy floor.

    Observation: ``Discrete(rows * cols)``, the index ``row * cols + col``.
    Actions: ``Discrete(4)``: 0 left, 1 down, 2 right, 3 up (FrozenLake's order).
    ``P[s][a]`` lists ``(probability, next_state, reward, terminated)`` like Gymnasium's toy-text envs,
    so the dynamics can be read by :func:`tabular_model`.
    """

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}

    def __init__(self, desc: Sequence[str] = DEFAULT_MAP, slip: float = 0.0, goal_reward: float = 1.0,
                 hole_reward: float = 0.0, step_reward: float = 0.0, render_mode: str | None = None):
        rows = [str(r) for r in desc]
        if not rows or len({len(r) for r in rows}) != 1:
            raise ValueError("desc must be a non-empty list of equal-length strings")
        if "".join(rows).count("S") != 1:
            raise ValueError("desc needs exactly one start cell 'S'")
        if not 0.0 <= slip <= 1.0:
            raise ValueError(f"slip is a probability, got {slip}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.desc = np.array([list(r) for r in rows])
        self.nrow, self.ncol = self.desc.shape
        self.slip = float(slip)
        self.rewards = {"G": goal_reward, "H": hole_reward}
        self.step_reward = step_reward
        self.render_mode = render_mode
        self.observation_space = spaces.Discrete(self.nrow * self.ncol)
        self.action_space = spaces.Discrete(4)
        self.start = int(np.flatnonzero(self.desc.ravel() == "S")[0])
        self.P = {s: {a: self._transitions(s, a) for a in range(4)} for s in range(self.nrow * self.ncol)}
        self.s = self.start

    def _move(self, s: int, a: int) -> int:
        r, c = divmod(s, self.ncol)
        dr, dc = MOVES[a]
        r2, c2 = r + dr, c + dc
        if 0 <= r2 < self.nrow and 0 <= c2 < self.ncol and self.desc[r2, c2] != "#":
            return r2 * self.ncol + c2
        return s

    def _transitions(self, s: int, a: int) -> list[tuple[float, int, float, bool]]:
        if self.desc.ravel()[s] in "GH":  # terminal: absorbing, no reward
            return [(1.0, s, 0.0, True)]
        side = [(a - 1) % 4, (a + 1) % 4]
        outcomes = [(1.0 - self.slip, a), (self.slip / 2, side[0]), (self.slip / 2, side[1])]
        merged: dict[int, float] = {}
        for p, move in outcomes:
            if p > 0:
                s2 = self._move(s, move)
                merged[s2] = merged.get(s2, 0.0) + p
        result = []
        for s2, p in merged.items():
            cell = self.desc.ravel()[s2]
            result.append((p, s2, float(self.rewards.get(cell, self.step_reward)), bool(cell in "GH")))
        return result

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.s = self.start
        return self.s, {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0, 1, 2 or 3 (left, down, right, up), got {action!r}")
        transitions = self.P[self.s][int(action)]
        i = self.np_random.choice(len(transitions), p=[t[0] for t in transitions])
        _, s2, reward, terminated = transitions[i]
        self.s = s2
        return s2, reward, terminated, False, {}

    def render(self):
        if self.render_mode == "ansi":
            grid = self.desc.copy()
            r, c = divmod(self.s, self.ncol)
            grid[r, c] = "A"
            return "\n".join("".join(row) for row in grid) + "\n"
        if self.render_mode == "rgb_array":
            return self._rgb()
        return None

    def _rgb(self, cell: int = 48) -> np.ndarray:
        colors = {"S": (200, 220, 255), ".": (235, 235, 235), "#": (80, 80, 80),
                  "H": (40, 40, 90), "G": (90, 200, 90)}
        img = np.zeros((self.nrow * cell, self.ncol * cell, 3), dtype=np.uint8)
        for r in range(self.nrow):
            for c in range(self.ncol):
                img[r * cell:(r + 1) * cell, c * cell:(c + 1) * cell] = colors[self.desc[r, c]]
                img[r * cell, c * cell:(c + 1) * cell] = 160
                img[r * cell:(r + 1) * cell, c * cell] = 160
        r, c = divmod(self.s, self.ncol)
        yy, xx = np.mgrid[:cell, :cell]
        disk = (yy - cell / 2) ** 2 + (xx - cell / 2) ** 2 <= (cell / 3) ** 2
        img[r * cell:(r + 1) * cell, c * cell:(c + 1) * cell][disk] = (230, 120, 30)
        return img


gym.register(id="course/GridWorld-v0", entry_point=GridWorld, max_episode_steps=100)


def tabular_model(env: gym.Env) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays of a toy-text env's dynamics (FrozenLake, Taxi, CliffWalking, GridWorld).

    Returns:
        P: float64 ``(S, A, S)``, ``P[s, a, s2]`` the probability of moving from s to s2 with a.
        R: float64 ``(S, A)``, the expected immediate reward of taking a in s.
        terminal: bool ``(S,)``, True for states whose arrival ends the episode (their value is 0).
    """
    table = env.unwrapped.P
    n_s, n_a = env.observation_space.n, env.action_space.n
    P = np.zeros((n_s, n_a, n_s))
    R = np.zeros((n_s, n_a))
    terminal = np.zeros(n_s, dtype=bool)
    for s in range(n_s):
        for a in range(n_a):
            for p, s2, r, done in table[s][a]:
                P[s, a, s2] += p
                R[s, a] += p * r
                terminal[s2] |= bool(done)
    return P, R, terminal


def grid_shape(env: gym.Env) -> tuple[int, int]:
    """(rows, cols) of a grid env (FrozenLake, CliffWalking, GridWorld), read from its map."""
    u = env.unwrapped
    if hasattr(u, "nrow"):
        return int(u.nrow), int(u.ncol)
    if hasattr(u, "shape"):
        return tuple(int(x) for x in u.shape)
    raise ValueError(f"{env.spec.id if env.spec else env} is not a grid environment")
