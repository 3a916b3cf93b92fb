"""Hidden checks of chapter 01 (instructors only), run by the grader outside the student's kernel.

The reference of every exercise is the instructor's solution cell, extracted into
``solution_01_intro.py`` (``python -m autograder.verdict.extract 01_intro``). This file holds what is
*not* the solution: seeded input generators, the probes of each exercise (hand-worked cases and
random ones, compared with the reference), property checks (greedy policies, slip rates, seeding),
and the registry of known mistakes, each written once as an edit of the solution.
"""
from __future__ import annotations

import numpy as np

from autograder.verdict.core import Exercise, Mistake, Probe, diff, modified_args
from autograder.verdict.wire import Raised, Space

CHAPTER = "01_intro"
PREAMBLE = "import numpy as np\nimport gymnasium as gym"

# ---------------------------------------------------------------- inputs


def random_mdp(rng: np.random.Generator, n_states: int | None = None, n_actions: int | None = None):
    """A random MDP ``(P, R, terminal)`` with 1-3 terminal states that still have rewards and exits,
    so that forgetting the terminal mask changes the answer."""
    S = int(n_states or rng.integers(3, 12))
    A = int(n_actions or rng.integers(2, 5))
    P = rng.random((S, A, S)) ** 3
    P /= P.sum(axis=2, keepdims=True)
    R = rng.normal(size=(S, A))
    terminal = np.zeros(S, dtype=bool)
    terminal[rng.choice(S, size=min(S - 1, int(rng.integers(1, 4))), replace=False)] = True
    return P, R, terminal


def random_policy(rng: np.random.Generator, S: int, A: int):
    pi = rng.random((S, A)) + 1e-3
    return pi / pi.sum(axis=1, keepdims=True)


def toy_mdp():
    """The notebook's 2-state MDP: state 1 is terminal; from 0, action 0 stays (reward 0), action 1
    moves to 1 (reward 1)."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = 1.0
    P[1, :, 1] = 1.0
    return P, np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([False, True])


def _unchanged(result, args, names) -> tuple:
    return tuple(modified_args(result, args, names))


def _modified_problem(got, expected) -> str | None:
    if got and not expected:
        return f"changed its argument{'s' if len(got) > 1 else ''} {', '.join(got)} in place (the caller's data must not change)"
    return None


def _value_and_args(label, compare_value):
    """A compare for traces ``(value, modified argument names)``."""
    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        return compare_value(got[0], expected[0]) or _modified_problem(got[1], expected[1])
    return compare


# ---------------------------------------------------------------- discounted_return


def _number_kind(x) -> str:
    ok = isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))
    return "number" if ok else type(x).__name__


def probes_discounted_return() -> list[Probe]:
    rng = np.random.default_rng(101)
    cases = [([1.0], 0.9), ([1, 0, 2], 0.5), ([], 0.9), (np.ones(3), 1.0), ([5.0], 0.0),
             ([1.0, 2.0, 3.0], 0.0), ([1.0, 2.0, 3.0], 1.0), ((1, 1, 1), 0.5), (np.array([0.0, 0.0, 10.0]), 0.9),
             ([2.0, -1.0], 0.5)]
    for _ in range(20):
        cases.append((rng.normal(size=int(rng.integers(2, 40))).round(3), float(rng.uniform(0.05, 0.99))))
    probes = []
    for rewards, gamma in cases:
        shown = ", ".join(f"{float(r):g}" for r in list(rewards)[:6])
        label = f"discounted_return([{shown}{', ...' if len(rewards) > 6 else ''}], gamma={gamma:.3f})"

        def run(s, rewards=rewards, gamma=gamma):
            r = s.call("discounted_return", rewards, gamma)
            kind = _number_kind(r.value)
            return (kind, float(r.value) if kind == "number" else None), _unchanged(r, [rewards], ["rewards"])

        def compare_value(got, expected, label=label):
            if got[0] != "number":
                return f"{label}: expected a float, got a {got[0]}"
            return diff(got[1], expected[1], 1e-8, 1e-8, label)
        probes.append(Probe(label, run, _value_and_args(label, compare_value)))
    return probes


# ---------------------------------------------------------------- bellman_backup


def probes_bellman_backup() -> list[Probe]:
    rng = np.random.default_rng(202)
    cases = []
    P, R, terminal = toy_mdp()
    cases.append(("the 2-state MDP of the notebook, V=[2, 5], gamma=0.5", P, R, terminal, np.array([2.0, 5.0]), 0.5))
    for i in range(24):
        P, R, terminal = random_mdp(rng, n_states=1 if i == 0 else None)
        if i == 0:
            terminal[:] = False
        V = rng.normal(size=P.shape[0])
        cases.append((f"random MDP #{i}, S={P.shape[0]}, A={P.shape[1]}", P, R, terminal, V, float(rng.uniform(0.5, 0.99))))
    probes = []
    for label, P, R, terminal, V, gamma in cases:
        label = f"Q = bellman_backup(...) on {label}"
        args = (P, R, terminal, V, gamma)

        def run(s, args=args):
            r = s.call("bellman_backup", *args)
            return r.value, _unchanged(r, args, ["P", "R", "terminal", "V", "gamma"])

        def compare_value(got, expected, label=label):
            return diff(got, expected, 1e-8, 1e-8, label)
        probes.append(Probe(label, run, _value_and_args(label, compare_value)))
    return probes


# ---------------------------------------------------------------- policy_evaluation


def probes_policy_evaluation() -> list[Probe]:
    rng = np.random.default_rng(303)
    P, R, terminal = toy_mdp()
    fast = {"max_iters": 2000}
    cases = [("'always stay' on the 2-state MDP", P, R, terminal, np.array([[1.0, 0.0], [1.0, 0.0]]), 0.9, fast),
             ("'always go' on the 2-state MDP", P, R, terminal, np.array([[0.0, 1.0], [0.0, 1.0]]), 0.9, fast),
             ("'50/50' on the 2-state MDP", P, R, terminal, np.array([[0.5, 0.5], [0.5, 0.5]]), 0.9, fast),
             ("'50/50' on the 2-state MDP with the default tol and max_iters", P, R, terminal,
              np.array([[0.5, 0.5], [0.5, 0.5]]), 0.9, {})]
    for i in range(8):
        P, R, terminal = random_mdp(rng)
        pi = random_policy(rng, *R.shape)
        if i % 3 == 0:  # deterministic policies as one-hot rows
            pi = np.eye(R.shape[1])[rng.integers(0, R.shape[1], size=R.shape[0])]
        gamma = float(rng.uniform(0.5, 0.85))
        kwargs = fast
        if i == 6:  # the loop's control: exactly max_iters sweeps, then stop
            kwargs, gamma = {"tol": 1e-12, "max_iters": 3}, 0.9
        if i == 7:  # a loose tol stops early (tolerance = tol: either side of the last sweep passes)
            kwargs, gamma = {"tol": 0.05, "max_iters": 2000}, 0.95
        cases.append((f"random MDP #{i}, S={P.shape[0]}, A={P.shape[1]}, gamma={gamma:.2f}"
                      + "".join(f", {k}={v:g}" for k, v in kwargs.items()), P, R, terminal, pi, gamma, kwargs))
    probes = []
    for label, P, R, terminal, pi, gamma, kwargs in cases:
        label = f"V = policy_evaluation(...) for {label}"
        args = (P, R, terminal, pi, gamma)
        atol = max(1e-6, kwargs.get("tol", 0) if kwargs.get("max_iters", 0) > 10 else 0)

        def run(s, args=args, kwargs=kwargs):
            r = s.call("policy_evaluation", *args, **kwargs, deps=["bellman_backup"])
            return r.value, _unchanged(r, args, ["P", "R", "terminal", "policy", "gamma"])

        def compare_value(got, expected, label=label, atol=atol):
            return diff(got, expected, atol, 1e-6, label)
        probes.append(Probe(label, run, _value_and_args(label, compare_value), atol=1e-6, rtol=1e-6))
    return probes


# ---------------------------------------------------------------- value_iteration


def _backup(P, R, terminal, V, gamma):  # a hand-written oracle for greediness, not the solution
    return R + gamma * np.einsum("sat,t->sa", P, np.where(terminal, 0.0, V))


def probes_value_iteration() -> list[Probe]:
    rng = np.random.default_rng(404)
    P, R, terminal = toy_mdp()
    fast = {"max_iters": 2000}
    cases = [("the 2-state MDP, gamma=0.9", P, R, terminal, 0.9, fast),
             ("the 2-state MDP, gamma=0.9, the default tol and max_iters", P, R, terminal, 0.9, {})]
    for i in range(8):
        P, R, terminal = random_mdp(rng)
        gamma = float(rng.uniform(0.5, 0.85))
        kwargs = fast
        if i == 6:  # the loop's control: exactly max_iters sweeps, then stop
            kwargs, gamma = {"tol": 1e-12, "max_iters": 3}, 0.9
        if i == 7:  # a loose tol stops early (tolerance = tol: either side of the last sweep passes)
            kwargs, gamma = {"tol": 0.05, "max_iters": 2000}, 0.95
        cases.append((f"random MDP #{i}, S={P.shape[0]}, A={P.shape[1]}, gamma={gamma:.2f}"
                      + "".join(f", {k}={v:g}" for k, v in kwargs.items()), P, R, terminal, gamma, kwargs))
    probes = []
    for label, P, R, terminal, gamma, kwargs in cases:
        label = f"value_iteration(...) on {label}"
        args = (P, R, terminal, gamma)
        atol = max(1e-6, kwargs.get("tol", 0) if kwargs.get("max_iters", 0) > 10 else 0)

        def run(s, args=args, kwargs=kwargs):
            r = s.call("value_iteration", *args, **kwargs, deps=["bellman_backup"])
            return r.value, _unchanged(r, args, ["P", "R", "terminal", "gamma"])

        def compare_value(got, expected, label=label, P=P, R=R, terminal=terminal, gamma=gamma, atol=atol):
            if not isinstance(got, tuple) or len(got) != 2:
                return f"{label}: must return a tuple (V, policy), got {type(got).__name__}"
            V, policy = got
            problem = diff(V, expected[0], atol, 1e-6, f"V* from {label}")
            if problem:
                return problem
            if not isinstance(policy, np.ndarray) or policy.shape != (P.shape[0],):
                return f"{label}: the policy must be an array of shape ({P.shape[0]},), got {policy!r:.80}"
            if policy.dtype.kind not in "iu":
                return f"{label}: the policy must hold integer actions, got dtype {policy.dtype}"
            if policy.min() < 0 or policy.max() >= P.shape[1]:
                return f"{label}: the policy holds actions outside 0..{P.shape[1] - 1}"
            Q = _backup(P, R, terminal, expected[0], gamma)
            picked = Q[np.arange(len(policy)), policy]
            bad = np.flatnonzero(picked < Q.max(axis=1) - 1e-6).tolist()
            if bad:
                return (f"{label}: the policy is not greedy with respect to Q* in states {bad} (take the "
                        "argmax over actions of the backup of the final V)")
            return None
        probes.append(Probe(label, run, _value_and_args(label, compare_value), atol=1e-6, rtol=1e-6))
    return probes


# ---------------------------------------------------------------- Corridor


def _norm(step):
    """A step or reset result as plain data: (obs, reward, terminated, truncated, info is a dict)."""
    if isinstance(step, Raised):
        return step
    if isinstance(step, tuple) and len(step) == 5:
        obs, r, term, trunc, info = step
        return (_int(obs), _float(r), _bool(term), _bool(trunc), isinstance(info, dict))
    if isinstance(step, tuple) and len(step) == 2:
        return (_int(step[0]), isinstance(step[1], dict))
    return ("not a tuple of 2 or 5", type(step).__name__)


def _int(x):
    return int(x) if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) else f"not an int: {x!r:.40}"


def _float(x):
    return float(x) if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_)) else f"not a number: {x!r:.40}"


def _bool(x):
    return bool(x) if isinstance(x, (bool, np.bool_)) else f"not a bool: {x!r:.40}"


def _walk(kwargs, steps, label):
    def run(s):
        return [_norm(x) if not isinstance(x, Space) else x for x in s.script("Corridor", kwargs, steps)]

    def compare(got, expected):
        for i, (g, e) in enumerate(zip(got, expected)):
            if g != e:
                what = steps[i][0] if i < len(steps) else "?"
                return (f"{label}: call {i + 1} ({what} {steps[i][1]!r}) gave {g}, expected {e} "
                        "(reset gives (obs, info is a dict); step gives (obs, reward, terminated, truncated, info is a dict))")
        if len(got) != len(expected):
            return f"{label}: expected {len(expected)} results, got {len(got)}: {got[-1] if got else ''}"
        return None
    return Probe(label, run, compare)


def probes_Corridor() -> list[Probe]:
    probes = [
        _walk({"length": 7, "slip": 0.0, "max_steps": 50},
              [("attr", "observation_space"), ("attr", "action_space")],
              "Corridor(length=7): observation_space = Discrete(7), action_space = Discrete(2)"),
        _walk({"length": 7, "slip": 0.0, "max_steps": 50},
              [("reset", {"seed": 0}), ("step", 1), ("step", 1), ("step", 1)],
              "Corridor(length=7, slip=0): reset(seed=0) then three steps right (+1 and terminated at the right end)"),
        _walk({"length": 7, "slip": 0.0, "max_steps": 50},
              [("reset", {"seed": 1}), ("step", 0), ("step", 0), ("step", 0)],
              "Corridor(length=7, slip=0): three steps left (-1 and terminated at the left end)"),
        _walk({"length": 5, "slip": 0.0, "max_steps": 4},
              [("reset", {"seed": 0}), ("step", 1), ("step", 0), ("step", 1), ("step", 0)],
              "Corridor(length=5, max_steps=4): the 4th step is truncated, not terminated (a time limit is not a terminal state)"),
        _walk({"length": 5, "slip": 0.0, "max_steps": 4},
              [("reset", {"seed": 0}), ("step", 1), ("step", 0), ("reset", {}), ("step", 1), ("step", 0), ("step", 1), ("step", 0)],
              "Corridor(length=5, max_steps=4): after reset() the step count starts again"),
        _walk({"length": 9, "slip": 1.0, "max_steps": 100},
              [("reset", {"seed": 0}), ("step", 1), ("step", 0), ("step", 0)],
              "Corridor(length=9, slip=1.0): every move goes the other way"),
        _walk({}, [("attr", "observation_space"), ("reset", {"seed": 3})] + [("step", a % 2) for a in range(50)],
              "Corridor() with its defaults (length=7, slip=0.0, max_steps=50): 50 steps back and forth, then truncated"),
        _walk({"length": 601, "slip": 0.0, "max_steps": 1000}, [("reset", {"seed": 0})] + [("step", 1)] * 300,
              "Corridor(length=601, slip=0): 300 steps right reach the right end"),
        _walk({"length": 8, "slip": 0.0, "max_steps": 20}, [("reset", {"seed": 0})] + [("step", 1)] * 3,
              "Corridor(length=8, slip=0): an even length; three steps right from cell 4 reach the end, cell 7"),
        _walk({"length": 1001, "slip": 0.0, "max_steps": 300}, [("reset", {"seed": 0})] + [("step", a % 2) for a in range(300)],
              "Corridor(length=1001, max_steps=300): 300 steps back and forth, then truncated"),
        _walk({"length": 3, "slip": 0.0, "max_steps": 10},
              [("reset", {"seed": 0}), ("step", 0), ("reset", {"seed": 0}), ("step", 1)],
              "Corridor(length=3): the smallest corridor"),
    ]

    def rate(s):
        steps = [("reset", {"seed": 123})] + [("step", 1)] * 2000
        trace = s.script("Corridor", {"length": 5001, "slip": 0.3, "max_steps": 10_000}, steps)
        if any(isinstance(t, Raised) for t in trace) or len(trace) != len(steps):
            return "the walk failed: " + str(trace[-1])[:200]
        pos = [_int(trace[0][0])] + [_int(t[0]) if isinstance(t, tuple) and t else None for t in trace[1:]]
        if any(not isinstance(p, int) for p in pos):
            return "observations are not ints"
        return sum(b < a for a, b in zip(pos, pos[1:])) / 2000

    def rate_compare(got, expected):
        if not isinstance(got, float):
            return f"Corridor(slip=0.3): {got}"
        if not 0.25 <= got <= 0.35:
            return (f"Corridor(slip=0.3): about 30% of moves should go the other way; measured {got:.1%} "
                    "over 2000 steps. Draw the slip from self.np_random (seeded by reset).")
        return None

    def bucket(r):
        return r if not isinstance(r, float) else ("none" if r < 0.05 else "ok" if 0.25 <= r <= 0.35 else
                                                     "most" if r > 0.6 else "other")
    probes.append(Probe("Corridor(slip=0.3): the slip rate", rate, rate_compare, key=bucket))

    def seeded(s):
        kw = {"length": 101, "slip": 0.5, "max_steps": 100}
        steps = [("reset", {"seed": 7})] + [("step", 1)] * 40  # equal by chance: 2^-40
        a, b = s.script("Corridor", kw, steps), s.script("Corridor", kw, steps)
        if len(a) != len(steps) or any(isinstance(x, Raised) for x in a + b):
            return "the episode failed: " + str((a + b)[-1])[:200]
        return [_norm(x) for x in a] == [_norm(x) for x in b]

    def seeded_compare(got, expected):
        if isinstance(got, str):
            return f"Corridor(slip=0.5): {got}"
        if got is not True:
            return ("Corridor(slip=0.5): the same seed must give the same episode: draw the slip from "
                    "self.np_random, which super().reset(seed=seed) seeds")
        return None
    probes.append(Probe("Corridor(length=101, slip=0.5): reset(seed=7) twice gives the same 40 steps", seeded, seeded_compare))
    return probes


EXERCISES = [
    Exercise("discounted_return", probes_discounted_return),
    Exercise("bellman_backup", probes_bellman_backup),
    Exercise("policy_evaluation", probes_policy_evaluation, deps=("bellman_backup",)),
    Exercise("value_iteration", probes_value_iteration, deps=("bellman_backup",)),
    Exercise("Corridor", probes_Corridor),
]

# ---------------------------------------------------------------- known mistakes (each written once)

MISTAKES = [
    Mistake("discounted_return", "discounting starts at gamma^1 instead of gamma^0 (off by one)",
            "g = float(r) + gamma * g\n    return g", "g = float(r) + gamma * g\n    return gamma * g"),
    Mistake("discounted_return", "no discounting (gamma ignored)",
            "g = float(r) + gamma * g", "g = float(r) + g"),
    Mistake("discounted_return", "discounts applied in reverse order (gamma^(T-1-t))",
            "reversed(list(rewards))", "list(rewards)"),
    Mistake("discounted_return", "only the first reward counts",
            "g = float(r) + gamma * g", "g = float(r)"),
    Mistake("discounted_return", "returns an array or list, not a float",
            "return g", "return [g]"),
    Mistake("bellman_backup", "bootstrapping through a terminal state (V of terminal next states must count as 0)",
            "np.where(terminal, 0.0, V)", "V"),
    Mistake("bellman_backup", "gamma missing from the bootstrap term",
            "R + gamma * P @", "R + P @"),
    Mistake("bellman_backup", "the terminal mask is applied to the current state instead of the next state",
            "return R + gamma * P @ np.where(terminal, 0.0, V)",
            "return np.where(terminal[:, None], 0.0, R + gamma * P @ V)"),
    Mistake("bellman_backup", "writes V[terminal] = 0 into its argument V (the caller's V changes)",
            "return R + gamma * P @ np.where(terminal, 0.0, V)",
            "V[terminal] = 0.0\n    return R + gamma * P @ V"),
    Mistake("policy_evaluation", "max over actions instead of the policy's average (that is value iteration)",
            "(policy * bellman_backup(P, R, terminal, V, gamma)).sum(axis=1)",
            "bellman_backup(P, R, terminal, V, gamma).max(axis=1)"),
    Mistake("policy_evaluation", "the policy's probabilities are ignored (a plain average over actions)",
            "(policy * bellman_backup(P, R, terminal, V, gamma)).sum(axis=1)",
            "bellman_backup(P, R, terminal, V, gamma).mean(axis=1)"),
    Mistake("policy_evaluation", "bootstrapping through a terminal state (its own backup without the mask)",
            "(policy * bellman_backup(P, R, terminal, V, gamma))", "(policy * (R + gamma * P @ V))"),
    Mistake("policy_evaluation", "the stopping test is reversed (stops after one sweep)",
            "if delta < tol:", "if delta > tol:"),
    Mistake("value_iteration", "an average over actions instead of the max",
            "bellman_backup(P, R, terminal, V, gamma).max(axis=1)",
            "bellman_backup(P, R, terminal, V, gamma).mean(axis=1)"),
    Mistake("value_iteration", "the policy takes argmin instead of argmax",
            ".argmax(axis=1)", ".argmin(axis=1)"),
    Mistake("value_iteration", "the stopping test is reversed (stops after one sweep)",
            "if delta < tol:", "if delta > tol:"),
    Mistake("value_iteration", "returns only V, not (V, policy)",
            "return V, bellman_backup(P, R, terminal, V, gamma).argmax(axis=1)", "return V"),
    Mistake("Corridor", "the time limit is treated as terminated (a time limit is not a terminal state)",
            "terminated = self.pos in (0, self.length - 1)",
            "terminated = self.pos in (0, self.length - 1) or self.t >= self.max_steps"),
    Mistake("Corridor", "the slip is drawn from np.random instead of self.np_random (not reproducible from reset(seed))",
            "self.np_random.random() < self.slip", "np.random.random() < self.slip"),
    Mistake("Corridor", "reset does not restart the step count",
            "super().reset(seed=seed)\n        self.pos, self.t = self.length // 2, 0",
            "super().reset(seed=seed)\n        self.pos = self.length // 2"),
    Mistake("Corridor", "the slip is never applied",
            "if self.np_random.random() < self.slip:", "if False:"),
    Mistake("Corridor", "moves flip with probability 1 - slip (the comparison is reversed)",
            "self.np_random.random() < self.slip", "self.np_random.random() > self.slip"),
    Mistake("Corridor", "reward +1 at both ends",
            "(-1.0 if self.pos == 0 else 0.0)", "(1.0 if self.pos == 0 else 0.0)"),
]

# ---------------------------------------------------------------- equivalent mutants
# Mutants of the solution that no check can kill, because they do not change what the exercise
# promises: (exercise, original line, mutated line, why). `python -m autograder.mutants 01_intro`
# counts them apart; every other survivor is a missing check.

EQUIVALENT_MUTANTS = [
    ("policy_evaluation", "if delta < tol:", "if delta <= tol:", "differs only when delta equals tol exactly"),
    ("value_iteration", "if delta < tol:", "if delta <= tol:", "differs only when delta equals tol exactly"),
    ("policy_evaluation", "V = np.zeros(P.shape[0])", "V = np.zeros(P.shape[-1])", "P is (S, A, S): both axes are S"),
    ("value_iteration", "V = np.zeros(P.shape[0])", "V = np.zeros(P.shape[-1])", "P is (S, A, S): both axes are S"),
    ("Corridor", "def reset(self, *, seed=None, options=None):", "def reset(self, /, seed=None, options=None):",
     "seed and options are still accepted by keyword; positional use is only added"),
    ("Corridor", "self.pos, self.t = length // 2, 0", "*",
     "__init__'s position and step count are never observed: Gymnasium requires reset before step"),
    ("Corridor", "def __init__(self, length=7, slip=0.0, max_steps=50):", "def __init__(self, length=7, slip= -1.0, max_steps=50):",
     "a negative slip never slips, like 0.0"),
    ("Corridor", "if length < 3:", "if length < 2:",
     "rejecting a too short corridor is the solution's own guard, not part of the exercise's contract"),
    ("Corridor", "reward = 1.0 if self.pos == self.length - 1 else (-1.0 if self.pos == 0 else 0.0)",
     "reward = 1.0 if self.pos >= self.length - 1 else (-1.0 if self.pos == 0 else 0.0)",
     "the position never exceeds length - 1: the episode terminates there"),
    ("policy_evaluation", "delta = np.max(np.abs(V_new - V))", "delta = np.max(np.abs(V_new % V))",
     "not strictly equivalent: |V_new % V| equals |V_new - V| whenever V_new and V share a sign and |V_new| < 2|V| "
     "(every sweep after the first few), so only the sweep count can differ"),
    ("value_iteration", "delta = np.max(np.abs(V_new - V))", "delta = np.max(np.abs(V_new % V))",
     "not strictly equivalent: |V_new % V| equals |V_new - V| whenever V_new and V share a sign and |V_new| < 2|V| "
     "(every sweep after the first few), so only the sweep count can differ"),
    ("Corridor", "move = 1 if action == 1 else -1", "move = 1 if action >= 1 else -1",
     "the action space is Discrete(2): no action above 1 exists"),
    ("Corridor", "truncated = (not terminated) and self.t >= self.max_steps",
     "truncated = (not terminated) and self.t == self.max_steps",
     "stepping past the end of an episode is undefined in Gymnasium (reset first)"),
    ("policy_evaluation", "def policy_evaluation(P, R, terminal, policy, gamma, tol=1e-10, max_iters=100_000):", "*",
     "another default tol or max_iters changes how many sweeps run, not V within the checks' 1e-6"),
    ("value_iteration", "def value_iteration(P, R, terminal, gamma, tol=1e-10, max_iters=100_000):", "*",
     "another default tol or max_iters changes how many sweeps run, not V within the checks' 1e-6"),
    ("Corridor", "reward = 1.0 if self.pos == self.length - 1 else (-1.0 if self.pos == 0 else 0.0)",
     "reward = 1.0 if self.pos == self.length - 1 else (-1.0 if self.pos <= 0 else 0.0)",
     "the position never goes below 0: the episode terminates there"),
    ("Corridor", "if self.np_random.random() < self.slip:", "if self.np_random.random() <= self.slip:",
     "differs only when the uniform draw equals slip exactly (probability 0)"),
]
