"""Wrong answers for chapter 01 (see __init__.py for the format)."""

OFF_BY_ONE_RETURN = '''
def discounted_return(rewards, gamma):
    g = 0.0
    for t, r in enumerate(rewards):
        g += gamma ** (t + 1) * r          # off by one: the first reward is discounted too
    return g
'''

TIME_LIMIT_AS_TERMINAL = '''
from gymnasium import spaces

class Corridor(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, length=7, slip=0.0, max_steps=50):
        self.length, self.slip, self.max_steps = length, slip, max_steps
        self.observation_space = spaces.Discrete(length)
        self.action_space = spaces.Discrete(2)
        self.pos, self.t = length // 2, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.t = self.length // 2, 0
        return self.pos, {}

    def step(self, action):
        move = 1 if action == 1 else -1
        if self.np_random.random() < self.slip:
            move = -move
        self.pos += move
        self.t += 1
        reward = 1.0 if self.pos == self.length - 1 else (-1.0 if self.pos == 0 else 0.0)
        terminated = self.pos in (0, self.length - 1) or self.t >= self.max_steps   # time limit as terminal
        return self.pos, reward, terminated, False, {}
'''

NO_TERMINAL_MASK = '''
def bellman_backup(P, R, terminal, V, gamma):
    return R + gamma * P @ V                 # bootstraps through terminal states
'''

MAX_IN_EVALUATION = '''
def policy_evaluation(P, R, terminal, policy, gamma, tol=1e-10, max_iters=100_000):
    V = np.zeros(P.shape[0])
    for _ in range(max_iters):
        V_new = bellman_backup(P, R, terminal, V, gamma).max(axis=1)   # ignores the policy
        if np.max(np.abs(V_new - V)) < tol:
            return V_new
        V = V_new
    return V
'''

MEAN_IN_VALUE_ITERATION = '''
def value_iteration(P, R, terminal, gamma, tol=1e-10, max_iters=100_000):
    V = np.zeros(P.shape[0])
    for _ in range(max_iters):
        V_new = bellman_backup(P, R, terminal, V, gamma).mean(axis=1)   # average, not max
        if np.max(np.abs(V_new - V)) < tol:
            V = V_new
            break
        V = V_new
    return V, bellman_backup(P, R, terminal, V, gamma).argmax(axis=1)
'''

UNSEEDED_SLIP = TIME_LIMIT_AS_TERMINAL.replace(
    "self.np_random.random() < self.slip", "np.random.random() < self.slip"
).replace(" or self.t >= self.max_steps   # time limit as terminal", "").replace(
    "return self.pos, reward, terminated, False, {}",
    "return self.pos, reward, terminated, (not terminated) and self.t >= self.max_steps, {}")

WRONG = {
    "off_by_one_and_time_limit": ({"discounted_return": OFF_BY_ONE_RETURN, "Corridor": TIME_LIMIT_AS_TERMINAL},
                                  {"test_discounted_return", "test_Corridor"}),
    # value iteration and policy evaluation build on the backup: all three lose points
    "no_terminal_mask": ({"bellman_backup": NO_TERMINAL_MASK},
                         {"test_bellman_backup", "test_policy_evaluation", "test_value_iteration"}),
    "max_in_evaluation_and_unseeded_slip": ({"policy_evaluation": MAX_IN_EVALUATION, "Corridor": UNSEEDED_SLIP},
                                            {"test_policy_evaluation", "test_Corridor"}),
    "mean_in_value_iteration": ({"value_iteration": MEAN_IN_VALUE_ITERATION}, {"test_value_iteration"}),
}

# Rebinds every check it can reach, then answers wrongly: must score 0 on every exercise.
_SILENCE = """
import numpy as np, course_lib.checks as _c
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
for _name in ("check_close", "check_shape", "check_type", "check_all", "is_close"):
    setattr(_c, _name, lambda *a, **k: True)
check_close = check_shape = check_type = lambda *a, **k: None
"""
CHEAT = {
    "discounted_return": _SILENCE + "def discounted_return(rewards, gamma):\n    return 0.0\n",
    "bellman_backup": _SILENCE + "def bellman_backup(P, R, terminal, V, gamma):\n    return R\n",
    "policy_evaluation": _SILENCE + "def policy_evaluation(P, R, terminal, policy, gamma, tol=1e-10, max_iters=100):\n"
                         "    return np.zeros(P.shape[0])\n",
    "value_iteration": _SILENCE + "def value_iteration(P, R, terminal, gamma, tol=1e-10, max_iters=100):\n"
                       "    return np.zeros(P.shape[0]), np.zeros(P.shape[0], dtype=int)\n",
}
