"""Wrong answers for chapter 02 (see __init__.py for the format)."""

ARGMAX_TIES = '''
def epsilon_greedy(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(np.argmax(q_values))          # ties always go to the first action
'''

NO_TERMINAL_MASK = '''
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    target = r + gamma * np.max(Q[s_next])   # bootstraps through terminal states
    delta = target - Q[s, a]
    Q[s, a] += alpha * delta
    return float(delta)
'''

WRONG_ENTRY = '''
def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    target = r if terminated else r + gamma * np.max(Q[s_next])
    delta = target - Q[s_next, a]            # the wrong entry: Q[s_next, a] instead of Q[s, a]
    Q[s_next, a] += alpha * delta
    return float(delta)
'''

MAX_IN_SARSA = '''
def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    target = r if terminated else r + gamma * np.max(Q[s_next])   # that is Q-learning
    delta = target - Q[s, a]
    Q[s, a] += alpha * delta
    return float(delta)
'''

DONE_AS_TERMINAL = '''
def run_episode(env, policy, update, seed=None):
    s, _ = env.reset(seed=seed)
    a = policy(s)
    total_reward, steps = 0.0, 0
    while True:
        s_next, r, terminated, truncated, _ = env.step(a)
        done = terminated or truncated
        total_reward += r
        steps += 1
        a_next = policy(s_next)
        update(s, a, r, s_next, a_next, done)     # a time limit treated as a terminal state
        if done:
            return total_reward, steps
        s, a = s_next, a_next
'''

# Q-learning style loop: chooses the action again at the top of each iteration, so the a_next given to
# update is not the action taken (SARSA's target would use an action that never happens).
ACTION_CHOSEN_TWICE = '''
def run_episode(env, policy, update, seed=None):
    s, _ = env.reset(seed=seed)
    total_reward, steps = 0.0, 0
    done = False
    while not done:
        a = policy(s)
        s_next, r, terminated, truncated, _ = env.step(a)
        total_reward += r
        steps += 1
        update(s, a, r, s_next, policy(s_next), terminated)
        done = terminated or truncated
        s = s_next
    return total_reward, steps
'''

# SARSA with its TD error computed after the update (a subtle one) plus epsilon-greedy that draws its
# random action among the non-greedy actions only
TD_ERROR_AFTER_UPDATE = '''
def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    target = r if terminated else r + gamma * Q[s_next, a_next]
    Q[s, a] += alpha * (target - Q[s, a])
    return float(target - Q[s, a])           # the TD error after the update
'''

EXCLUDES_GREEDY = '''
def epsilon_greedy(q_values, epsilon, rng):
    best = np.flatnonzero(q_values == q_values.max())
    if rng.random() < epsilon:
        others = [a for a in range(len(q_values)) if a not in best]
        if others:
            return int(rng.choice(others))
    return int(rng.choice(best))
'''

WRONG = {
    "argmax_ties_and_terminal_bootstrap": ({"epsilon_greedy": ARGMAX_TIES, "q_learning_update": NO_TERMINAL_MASK},
                                           {"test_epsilon_greedy", "test_q_learning_update"}),
    "wrong_entry": ({"q_learning_update": WRONG_ENTRY}, {"test_q_learning_update"}),
    "max_in_sarsa": ({"sarsa_update": MAX_IN_SARSA}, {"test_sarsa_update"}),
    "done_as_terminal": ({"run_episode": DONE_AS_TERMINAL}, {"test_run_episode"}),
    "action_chosen_twice": ({"run_episode": ACTION_CHOSEN_TWICE}, {"test_run_episode"}),
    "td_error_after_update_and_excludes_greedy": (
        {"sarsa_update": TD_ERROR_AFTER_UPDATE, "epsilon_greedy": EXCLUDES_GREEDY},
        {"test_sarsa_update", "test_epsilon_greedy"}),
}

# Rebinds every check it can reach, then answers wrongly: must score 0 on every exercise.
_SILENCE = """
import numpy as np, course_lib.checks as _c
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
for _name in ("check_close", "check_shape", "check_type", "check_all", "is_close"):
    setattr(_c, _name, lambda *a, **k: True)
check_close = check_shape = check_type = lambda *a, **k: None
"""
CHEAT = {
    "epsilon_greedy": _SILENCE + "def epsilon_greedy(q_values, epsilon, rng):\n    return 0\n",
    "q_learning_update": _SILENCE + "def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):\n"
                         "    return 0.0\n",
    "sarsa_update": _SILENCE + "def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):\n"
                    "    return 0.0\n",
    "run_episode": _SILENCE + "def run_episode(env, policy, update, seed=None):\n    env.reset(seed=seed)\n"
                   "    return 0.0, 0\n",
}
