"""Reference implementations and hidden-check helpers for chapter 02 (instructors only).

Hidden test cells load this file fresh with ``course_lib.grading.load_reference("02_qlearning")``.
Besides the reference functions it holds the known mistakes (what a typical wrong answer returns),
so that a failing check can name the mistake, the generators of seeded random test inputs, and a
scripted environment with spies that watch how a training loop calls ``policy``, ``update`` and
``env.step``.
"""
from __future__ import annotations

import warnings

import numpy as np

# ---------------------------------------------------------------- references


def epsilon_greedy(q_values, epsilon: float, rng: np.random.Generator) -> int:
    q_values = np.asarray(q_values, dtype=float)
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    best = np.flatnonzero(q_values == q_values.max())
    return int(rng.choice(best))


def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma) -> float:
    # ndarray methods and builtins only (not numpy's module functions, which a notebook could rebind)
    target = float(r) if terminated else float(r) + gamma * max(Q[s_next].tolist())
    delta = float(target - Q[s, a])
    Q[s, a] += alpha * delta
    return delta


def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma) -> float:
    target = float(r) if terminated else float(r) + gamma * float(Q[s_next, a_next])
    delta = float(target - Q[s, a])
    Q[s, a] += alpha * delta
    return delta


def run_episode(env, policy, update, seed=None):
    s, _ = env.reset(seed=seed)
    a = policy(s)
    total, steps = 0.0, 0
    while True:
        s_next, r, terminated, truncated, _ = env.step(a)
        total += float(r)
        steps += 1
        a_next = policy(s_next)
        update(s, a, r, s_next, a_next, terminated)
        if terminated or truncated:
            return total, steps
        s, a = s_next, a_next


# ---------------------------------------------------------------- epsilon-greedy: probabilities


def greedy_probabilities(q_values, epsilon: float) -> list[float]:
    """P(action) of epsilon-greedy: epsilon / A everywhere, plus (1 - epsilon) shared by the ties.
    Computed with builtins only."""
    q = [float(x) for x in q_values]
    top = max(q)
    ties = sum(1 for x in q if x == top)
    return [epsilon / len(q) + ((1 - epsilon) / ties if x == top else 0.0) for x in q]


def greedy_mistakes(q_values, epsilon: float) -> dict[str, np.ndarray]:
    q = np.asarray(q_values, dtype=float)
    A = len(q)
    first = np.zeros(A)
    first[int(np.argmax(q))] = 1.0
    best = q == q.max()
    mistakes = {
        "ties broken towards the first action (np.argmax): break ties at random, e.g. "
        "rng.choice(np.flatnonzero(q == q.max()))": epsilon / A + (1 - epsilon) * first,
        "explores with probability 1 - epsilon instead of epsilon (the comparison is inverted)":
            greedy_probabilities(q, 1 - epsilon),
    }
    if best.sum() < A:  # the random action drawn among the non-greedy actions only
        others = ~best
        mistakes["the random action never picks a greedy action: draw it from all A actions"] = (
            epsilon * others / others.sum() + (1 - epsilon) * best / best.sum())
    return mistakes


# ---------------------------------------------------------------- TD updates: known mistakes


def _updated(Q, s, a, target, alpha):
    Q2 = Q.copy()
    Q2[s, a] += alpha * (target - Q[s, a])
    return Q2


def q_learning_mistakes(Q, s, a, r, s_next, terminated, alpha, gamma) -> dict[str, np.ndarray]:
    boot = r + gamma * np.max(Q[s_next])
    target = r if terminated else boot
    wrong_entry = Q.copy()
    wrong_entry[s_next, a] += alpha * (target - Q[s_next, a])
    return {
        "bootstrapping through a terminal state (when terminated, the target is just r)":
            _updated(Q, s, a, boot, alpha),
        "updating the wrong entry (Q[s_next, a] instead of Q[s, a])": wrong_entry,
        "the max is taken over the current state's row Q[s] instead of Q[s_next]":
            _updated(Q, s, a, r if terminated else r + gamma * np.max(Q[s]), alpha),
        "the learning rate is missing: Q[s, a] jumps to the target (alpha = 1)": _updated(Q, s, a, target, 1.0),
        "sign error: Q moves away from the target (Q - target instead of target - Q)":
            _updated(Q, s, a, 2 * Q[s, a] - target, alpha),
        "the mean over Q[s_next] instead of the max (that is expected SARSA with a uniform policy)":
            _updated(Q, s, a, r if terminated else r + gamma * np.mean(Q[s_next]), alpha),
        "gamma missing from the bootstrap term": _updated(Q, s, a, r if terminated else r + np.max(Q[s_next]), alpha),
    }


def sarsa_mistakes(Q, s, a, r, s_next, a_next, terminated, alpha, gamma) -> dict[str, np.ndarray]:
    boot = r + gamma * Q[s_next, a_next]
    target = r if terminated else boot
    wrong_entry = Q.copy()
    wrong_entry[s_next, a_next] += alpha * (target - Q[s_next, a_next])
    return {
        "using the max over next actions in SARSA (that is Q-learning): SARSA bootstraps from "
        "Q[s_next, a_next], the action the agent will really take":
            _updated(Q, s, a, r if terminated else r + gamma * np.max(Q[s_next]), alpha),
        "bootstrapping through a terminal state (when terminated, the target is just r)":
            _updated(Q, s, a, boot, alpha),
        "updating the wrong entry (Q[s_next, a_next] instead of Q[s, a])": wrong_entry,
        "the target uses Q[s_next, a] (the current action) instead of Q[s_next, a_next]":
            _updated(Q, s, a, r if terminated else r + gamma * Q[s_next, a], alpha),
        "the learning rate is missing: Q[s, a] jumps to the target (alpha = 1)": _updated(Q, s, a, target, 1.0),
        "sign error: Q moves away from the target (Q - target instead of target - Q)":
            _updated(Q, s, a, 2 * Q[s, a] - target, alpha),
        "gamma missing from the bootstrap term":
            _updated(Q, s, a, r if terminated else r + Q[s_next, a_next], alpha),
    }


def td_cases(rng: np.random.Generator, n: int = 40, sarsa: bool = False):
    """Seeded random transitions ``(Q, s, a, r, s_next, [a_next,] terminated, alpha, gamma)`` with the
    edge cases that matter: terminal next states whose Q rows are not zero, s_next == s, alpha = 1,
    gamma = 0, ties in Q[s_next]."""
    cases = []
    for i in range(n):
        S, A = int(rng.integers(2, 9)), int(rng.integers(2, 6))
        Q = rng.normal(size=(S, A)).round(3)
        s, a = int(rng.integers(S)), int(rng.integers(A))
        s_next = s if i % 7 == 3 else int(rng.integers(S))
        a_next = int(rng.integers(A))
        if sarsa and i % 5 == 0:  # a_next is not the greedy action: the max gives another target
            a_next = int(np.argmin(Q[s_next]))
        r = round(float(rng.normal()), 3)
        terminated = bool(i % 2 == 1)
        alpha = 1.0 if i == 5 else float(rng.uniform(0.05, 0.9))
        gamma = 0.0 if i == 7 else float(rng.uniform(0.5, 1.0))
        if i == 9:
            Q[s_next] = 2.0  # ties in the next row
        case = (Q, s, a, r, s_next, a_next, terminated, alpha, gamma) if sarsa else \
            (Q, s, a, r, s_next, terminated, alpha, gamma)
        cases.append(case)
    return cases


# ---------------------------------------------------------------- a scripted environment and spies


class ScriptedEnv:
    """An environment whose steps follow a script of ``(next_state, reward, terminated, truncated)``,
    whatever the action; it records the actions and the reset seeds, and refuses a step after the
    episode ended. Big action numbers make every policy call's answer recognisable."""

    def __init__(self, start: int, script, n_states: int = 64):
        from gymnasium import spaces

        self.start, self.script = start, list(script)
        self.observation_space = spaces.Discrete(n_states)
        self.action_space = spaces.Discrete(100_000)
        self.actions, self.seeds, self.t, self.done = [], [], 0, True

    def reset(self, *, seed=None, options=None):
        self.seeds.append(seed)
        self.t, self.done = 0, False
        return self.start, {}

    def step(self, action):
        if self.done:
            raise AssertionError(
                "env.step() was called after the episode ended: stop the loop as soon as a step returns "
                "terminated or truncated (stepping on would run past the end of the episode)")
        if self.t >= len(self.script):
            raise AssertionError("the scripted episode is over but the loop kept stepping")
        self.actions.append(action)
        s2, r, term, trunc = self.script[self.t]
        self.t += 1
        self.done = bool(term or trunc)
        return s2, r, term, trunc, {}


class SpyPolicy:
    """Answers 1000, 1001, 1002, ... (one new action per call) and records the states it was asked."""

    def __init__(self):
        self.calls = []

    def __call__(self, state):
        action = 1000 + len(self.calls)
        self.calls.append((state, action))
        return action


class SpyUpdate:
    def __init__(self):
        self.calls = []

    def __call__(self, s, a, r, s_next, a_next, terminated):
        self.calls.append((s, a, r, s_next, a_next, terminated))
        return 0.0


def _plain(x):
    """Python scalars for messages and comparisons (numpy ints and bools included)."""
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x


def check_episode(fn, start, script, seed, name: str) -> None:
    """Run ``fn`` (the student's run_episode) on a scripted episode and check every interaction."""
    env, policy, update = ScriptedEnv(start, script), SpyPolicy(), SpyUpdate()
    result = fn(env, policy, update, seed=seed)
    T = len(script)
    states = [start] + [step[0] for step in script]
    assert env.seeds[:1] == [seed] and len(env.seeds) == 1, (
        f"{name}: reset the environment once, at the start, with env.reset(seed=seed); resets seen: {env.seeds}")
    assert len(env.actions) == T, (
        f"{name}: the episode lasts {T} steps (it ends when a step returns terminated or truncated); "
        f"your loop took {len(env.actions)}")
    asked = dict((action, state) for state, action in policy.calls)
    for t, action in enumerate(env.actions):
        assert action in asked, f"{name}: step {t} took action {action!r}, which the policy never returned"
        assert _plain(asked[action]) == states[t], (
            f"{name}: the action taken at step {t} came from policy({asked[action]!r}) but the agent was in "
            f"state {states[t]}: after each step, s must become s_next")
    calls = [tuple(_plain(x) for x in c) for c in update.calls]
    if len(calls) == T - 1:
        raise AssertionError(f"{name}: update was called {T - 1} times for {T} steps: the last transition (the "
                             "one that ends the episode) must be learned from too; call update before leaving "
                             "the loop")
    assert len(calls) == T, f"{name}: update should be called once per step ({T}), it was called {len(calls)} times"
    for t, (s, a, r, s2, a2, term) in enumerate(calls):
        e_s2, e_r, e_term, e_trunc = script[t]
        assert (s, s2) == (states[t], e_s2), (
            f"{name}: update #{t} got (s, s_next) = ({s}, {s2}), expected ({states[t]}, {e_s2})")
        assert a == _plain(env.actions[t]), (
            f"{name}: update #{t} got a = {a}, but the action taken at that step was {_plain(env.actions[t])}")
        assert isinstance(r, (int, float)) and abs(r - e_r) < 1e-12, (
            f"{name}: update #{t} got reward {r!r}, the step returned {e_r}")
        if term != e_term:
            if e_trunc and not e_term and term:
                raise AssertionError(
                    f"{name}: this looks like a known mistake: a time limit treated as a terminal state. Step {t} "
                    "was truncated (not terminated) and update got terminated=True: pass `terminated`, not "
                    "`terminated or truncated`, so that the agent still bootstraps from s_next")
            raise AssertionError(f"{name}: update #{t} got terminated={term!r}, the step returned terminated={e_term}")
        if t + 1 < T:
            assert a2 == _plain(env.actions[t + 1]), (
                f"{name}: update #{t} got a_next = {a2}, but the action taken at the next step was "
                f"{_plain(env.actions[t + 1])}: choose a_next once with the policy, pass it to update and take "
                "it at the next step (that is what makes SARSA on-policy)")
        elif e_trunc and not e_term:
            assert a2 in asked and _plain(asked[a2]) == e_s2, (
                f"{name}: on the last step the episode was truncated (a time limit), so s_next still has a "
                f"value and SARSA needs a_next = policy(s_next); update got a_next = {a2!r}")
    assert isinstance(result, tuple) and len(result) == 2, (
        f"{name}: run_episode must return a tuple (total_reward, steps), got {result!r:.80}")
    total, steps = result
    expected_total = float(sum(step[1] for step in script))
    assert isinstance(total, (int, float, np.integer, np.floating)) and abs(float(total) - expected_total) < 1e-9, (
        f"{name}: total_reward should be the undiscounted sum of the episode's rewards, {expected_total:g}; "
        f"got {total!r}")
    assert isinstance(steps, (int, np.integer)) and int(steps) == T, f"{name}: steps should be {T}, got {steps!r}"


def episode_scripts(rng: np.random.Generator):
    """Named scripts: terminated, truncated, both at once, one step, and long random ones."""
    scripts = [
        ("an episode that terminates after 3 steps", 0, [(1, 0.5, False, False), (2, -1.0, False, False),
                                                        (3, 2.0, True, False)]),
        ("an episode truncated by a time limit after 4 steps", 5,
         [(6, 0.0, False, False), (6, 1.0, False, False), (7, -0.5, False, False), (8, 1.0, False, True)]),
        ("an episode that is terminated and truncated on the same step", 2,
         [(3, 1.0, False, False), (4, 1.0, True, True)]),
        ("an episode of one step that terminates", 9, [(10, 3.0, True, False)]),
        ("an episode of one step that is truncated", 9, [(9, -1.0, False, True)]),
    ]
    for k in range(4):
        T = int(rng.integers(5, 40))
        steps = [(int(rng.integers(64)), round(float(rng.normal()), 3), False, False) for _ in range(T - 1)]
        last_truncated = k % 2 == 0
        steps.append((int(rng.integers(64)), round(float(rng.normal()), 3), not last_truncated, last_truncated))
        scripts.append((f"a random {'truncated' if last_truncated else 'terminated'} episode of {T} steps",
                        int(rng.integers(64)), steps))
    return scripts


# ---------------------------------------------------------------- hidden checks, one per exercise
# ``checks`` is a fresh copy of course_lib.checks, attached by course_lib.grading.load_reference.


def _draw(fn, q, epsilon, seed, n):
    rng = np.random.default_rng(seed)
    q = np.asarray(q, dtype=float)
    counts = np.zeros(len(q))
    for i in range(n):
        q_in = q.copy()
        a = fn(q_in, epsilon, rng)
        if i == 0:
            checks.check_type(a, (int, np.integer), f"epsilon_greedy({q.tolist()}, {epsilon}, rng)")
            assert np.array_equal(q_in, q), "epsilon_greedy must not change q_values"
        a = int(a)
        assert 0 <= a < len(q), f"epsilon_greedy returned action {a}, outside 0..{len(q) - 1}"
        counts[a] += 1
    return counts / n


def hidden_epsilon_greedy(fn) -> None:
    rng = np.random.default_rng(2002)
    # epsilon = 0 and a unique best action: always that action
    for i in range(60):
        A = int(rng.integers(2, 7))
        q = rng.normal(size=A)
        seed = int(rng.integers(1 << 30))
        got = int(fn(q.copy(), 0.0, np.random.default_rng(seed)))
        assert got == int(np.argmax(q)), (
            f"epsilon_greedy(q={np.round(q, 3).tolist()}, epsilon=0) returned {got}; with epsilon = 0 the action "
            f"must be greedy, {int(np.argmax(q))} (an answer that explores when epsilon = 0 has the comparison inverted: "
            "explore when rng.random() < epsilon)")
    # frequencies against the exact probabilities, 4000 draws each, tolerance 0.03 (about 4.5 sigma)
    cases = [([1.0, 3.0, 3.0, 0.0, 3.0], 0.0), ([0.0, 0.0, 0.0, 0.0], 0.0), ([0.5, -1.0, 2.0, 0.0], 1.0),
             ([0.5, -1.0, 2.0, 0.0], 0.3), ([0.0, 5.0, 5.0], 0.2), ([-2.0, -1.0, -1.5, -3.0, -1.0, -4.0], 0.1),
             ([1.0, 0.0], 0.5)]
    for k, (q, eps) in enumerate(cases):
        freq = _draw(fn, q, eps, 100 + k, 4000)
        checks.check_close(freq, greedy_probabilities(q, eps),
                           f"how often each action is picked (4000 draws) for q={q}, epsilon={eps}",
                           atol=0.03, rtol=0.0, mistakes=greedy_mistakes(q, eps),
                           hint="epsilon-greedy picks a uniformly random action (of all A) with probability "
                                "epsilon, else a greedy one, ties broken uniformly at random.")
    # reproducible: the same seed gives the same actions
    q = np.array([1.0, 1.0, 0.0, 1.0])
    runs = []
    for _ in range(2):
        g = np.random.default_rng(77)
        runs.append([int(fn(q.copy(), 0.4, g)) for _ in range(60)])
    assert runs[0] == runs[1], (
        "two generators seeded the same gave different action sequences: draw every random number from the "
        "rng argument (not np.random or random), so that a seed reproduces a run")
    # a row of a Q-table (a view) works as well as an array
    Q = np.zeros((3, 4))
    Q[1, 2] = 1.0
    got = int(fn(Q[1], 0.0, np.random.default_rng(0)))
    assert got == 2, f"epsilon_greedy(Q[1], 0, rng) on a row of a Q-table should return 2, got {got}"
    assert Q[1, 2] == 1.0 and Q.sum() == 1.0, "epsilon_greedy must not change the Q-table"


def _check_update(fn, ref, mistakes_fn, cases, name) -> None:
    for i, case in enumerate(cases):
        Q = case[0]
        args = case[1:]
        Q_student = Q.copy()
        Q_ref = Q.copy()
        delta_ref = ref(Q_ref, *args)
        out = fn(Q_student, *args)
        label = f"{name} case #{i} (terminated={case[-3]}, alpha={case[-2]:.2f}, gamma={case[-1]:.2f})"
        if np.array_equal(Q_student, Q) and not np.array_equal(Q_ref, Q):
            if hasattr(out, "shape") and tuple(out.shape) == Q.shape:
                raise AssertionError(f"{label}: Q was not changed; it looks like you returned a new table. Update "
                                     "Q[s, a] in place and return the TD error (a float)")
            raise AssertionError(f"{label}: Q was not changed: update Q[s, a] in place")
        checks.check_close(Q_student, Q_ref, f"Q after {label}", atol=1e-9, rtol=1e-9,
                           mistakes=mistakes_fn(Q, *args))
        checks.check_type(out, (float, int, np.floating, np.integer), f"the TD error returned by {name}")
        checks.check_close(float(out), delta_ref, f"the TD error returned by {label}", atol=1e-9, rtol=1e-9,
                           mistakes={"the TD error was computed after the update (compute it before changing Q)":
                                     (1 - case[-2]) * delta_ref,
                                     "sign error in the TD error (Q - target instead of target - Q)": -delta_ref})


def hidden_q_learning_update(fn) -> None:
    rng = np.random.default_rng(2012)
    _check_update(fn, q_learning_update, q_learning_mistakes, td_cases(rng, 40, sarsa=False), "q_learning_update")
    # integer rewards and numpy bools, as environments return them
    Q = np.zeros((4, 2))
    Q[3] = [1.0, 5.0]
    fn(Q, 2, 1, 1, 3, np.bool_(False), 0.5, 0.9)
    checks.check_close(Q[2, 1], 0.5 * (1 + 0.9 * 5.0), "Q[2, 1] with an int reward and np.bool_(False)")
    fn(Q, 2, 0, 1, 3, np.bool_(True), 0.5, 0.9)
    checks.check_close(Q[2, 0], 0.5, "Q[2, 0] after a terminated step with np.bool_(True)",
                       mistakes={"bootstrapping through a terminal state": 0.5 * (1 + 0.9 * 5.0)})


def hidden_sarsa_update(fn) -> None:
    rng = np.random.default_rng(2022)
    _check_update(fn, sarsa_update, sarsa_mistakes, td_cases(rng, 40, sarsa=True), "sarsa_update")
    Q = np.zeros((4, 2))
    Q[3] = [1.0, 5.0]
    fn(Q, 2, 1, 1, 3, 0, np.bool_(False), 0.5, 0.9)
    checks.check_close(Q[2, 1], 0.5 * (1 + 0.9 * 1.0), "Q[2, 1] with a_next = 0, an int reward and np.bool_(False)",
                       mistakes={"using the max over next actions in SARSA (that is Q-learning)": 0.5 * (1 + 0.9 * 5.0)})


def hidden_run_episode(fn) -> None:
    rng = np.random.default_rng(2032)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, (name, start, script) in enumerate(episode_scripts(rng)):
            check_episode(fn, start, script, seed=k if k % 3 else None, name=name)
        # a real environment with a real time limit: FrozenLake's 100 steps, walking into the west wall
        import gymnasium as gym

        env = gym.make("FrozenLake-v1", is_slippery=False)
        update = SpyUpdate()
        total, steps = fn(env, lambda s: 0, update, seed=3)
        assert int(steps) == 100 and len(update.calls) == 100, (
            f"FrozenLake-v1 truncates an episode after 100 steps; walking left forever your loop reported "
            f"{steps} steps and {len(update.calls)} updates")
        flags = [bool(c[5]) for c in update.calls]
        assert not any(flags), (
            "this looks like a known mistake: a time limit treated as a terminal state. On FrozenLake's "
            "100-step limit the last step is truncated, not terminated: update must get terminated=False")
        # and a real termination: down, down, right, right, down, right reaches... the hole at (1, 1) first
        update = SpyUpdate()
        moves = iter([1, 2])
        total, steps = fn(env, lambda s: next(moves, 0), update, seed=0)
        assert int(steps) == 2 and [bool(c[5]) for c in update.calls] == [False, True], (
            f"down then right from the start of FrozenLake falls into the hole at (1, 1) on step 2 "
            f"(terminated=True); your loop reported {steps} steps and terminated flags "
            f"{[bool(c[5]) for c in update.calls]}")
