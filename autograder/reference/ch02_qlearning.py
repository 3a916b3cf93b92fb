"""Hidden checks of chapter 02 (instructors only), run by the grader outside the student's kernel.

The reference of every exercise is the instructor's solution cell, extracted into
``solution_02_qlearning.py`` (``python -m autograder.verdict.extract 02_qlearning``). This file holds
what is *not* the solution: seeded inputs, the probes of each exercise, the exact action
probabilities of epsilon-greedy (and of its known mistakes) that sampled frequencies are judged
against, a scripted spy environment, spy policy and spy update that watch ``run_episode`` call by
call, and the registry of known mistakes, each written once as an edit of the solution.

Epsilon-greedy is random: it is called many times, each time with a fresh ``np.random.default_rng``
of a known seed (``wire.Rng``), and the counts of each action are judged against exact binomial
acceptance intervals (a correct answer fails with probability below 1e-6 in all); a second probe
calls it twice with the same generator seed but a differently seeded global ``np.random``, ``random``
and ``torch``: the answers must agree (the ``rng`` argument is the only source of randomness).
"""
from __future__ import annotations

import math

import numpy as np

from autograder.verdict import wire
from autograder.verdict.core import Exercise, Mistake, Probe, Result, StudentRaised, diff, modified_args
from autograder.verdict.wire import Callback, Proxy, Raised, Rng

CHAPTER = "02_qlearning"
PREAMBLE = "import numpy as np"


def _plain(x):
    """Python scalars for messages and comparisons (numpy ints, floats and bools included)."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray) and x.shape == ():
        return _plain(x[()])
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    return x


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _show(x) -> str:
    if isinstance(x, wire.Opaque):
        return f"a {x.type} ({x.repr[:60]})"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    text = repr(_plain(x))
    return text if len(text) < 80 else text[:77] + "..."


# ---------------------------------------------------------------- epsilon_greedy: exact probabilities


def _probs(q, epsilon, explore=None, exploit=None):
    q = np.asarray(q, dtype=float)
    A = len(q)
    best = (q == q.max()).astype(float)
    explore = np.full(A, 1.0 / A) if explore is None else explore
    exploit = best / best.sum() if exploit is None else exploit
    return epsilon * explore + (1 - epsilon) * exploit


def candidates(q, epsilon) -> dict[str, np.ndarray]:
    """Exact action probabilities of epsilon-greedy and of its known mistakes (``"right"`` first)."""
    q = np.asarray(q, dtype=float)
    A = len(q)
    best = q == q.max()
    first = np.eye(A)[int(np.argmax(q))]
    out = {"right": _probs(q, epsilon),
           "ties to the first": _probs(q, epsilon, exploit=first),
           "inverted": _probs(q, 1 - epsilon),
           "never explores": _probs(q, 0.0)}
    if (~best).any():
        out["never greedy when exploring"] = _probs(q, epsilon, explore=(~best) / (~best).sum())
    if A > 1:
        out["explores A - 1 actions"] = _probs(q, epsilon, explore=np.r_[np.full(A - 1, 1.0 / (A - 1)), 0.0])
    return out


_TAIL = 1e-8  # per action and side: a right answer fails a frequency check with probability < 1e-6 in all


def acceptance(n: int, p: float) -> tuple[int, int]:
    """The counts k of Binomial(n, p) accepted: P(X < lo) <= tail and P(X > hi) <= tail (exact)."""
    if p <= 0.0:
        return 0, 0
    if p >= 1.0:
        return n, n
    logs = [math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p)
            + (n - k) * math.log1p(-p) for k in range(n + 1)]
    pmf = [math.exp(v) for v in logs]
    lo, acc = 0, 0.0
    while lo < n and acc + pmf[lo] <= _TAIL:
        acc += pmf[lo]
        lo += 1
    hi, acc = n, 0.0
    while hi > 0 and acc + pmf[hi] <= _TAIL:
        acc += pmf[hi]
        hi -= 1
    return lo, hi


def consistent(counts, probs) -> list[int]:
    """The actions whose count lies outside the acceptance interval of ``probs``."""
    n = int(sum(counts))
    return [k for k, (c, p) in enumerate(zip(counts, probs)) if not acceptance(n, float(p))[0] <= c <= acceptance(n, float(p))[1]]


def _pick(s, q, epsilon, rng_seed, kernel_seed=None):
    """One call of the student's epsilon_greedy: ("ok", action) or ("changed"/"type", ...)."""
    q = np.asarray(q, dtype=float)
    r = s.call("epsilon_greedy", q.copy(), epsilon, Rng(rng_seed), seed=kernel_seed)
    if modified_args(r, [q], ["q_values"]):
        return ("changed", None)
    if not _is_int(r.value):
        return ("type", _show(r.value))
    a = int(r.value)
    if not 0 <= a < len(q):
        return ("outside", a)
    return ("ok", a)


def _bad_pick(label, got, q) -> str | None:
    kind, v = got
    if kind == "changed":
        return f"{label}: changed its argument q_values in place (the Q-table's row must not change)"
    if kind == "type":
        return f"{label}: must return an int (an action), got {v}"
    if kind == "outside":
        return f"{label}: returned action {v}, outside 0..{len(q) - 1}"
    return None


def _draws(q, epsilon, n, base):
    label = f"epsilon_greedy(q={np.round(np.asarray(q, dtype=float), 3).tolist()}, epsilon={epsilon:g}, rng)"
    plabel = f"{label}: how often each action is picked ({n} calls, each with a fresh seeded rng)"
    q = np.asarray(q, dtype=float)

    def run(s):
        counts = np.zeros(len(q), dtype=int)
        for i in range(n):
            got = _pick(s, q, epsilon, base + i)
            if got[0] != "ok":
                return got
            counts[got[1]] += 1
        return ("counts", tuple(int(c) for c in counts))

    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{plabel}: raised {got}"
        if got[0] != "counts":
            return _bad_pick(plabel, got, q)
        probs = candidates(q, epsilon)["right"]
        bad = consistent(got[1], probs)
        if not bad:
            return None
        freq = [round(c / n, 3) for c in got[1]]
        k = bad[0]
        lo, hi = acceptance(n, float(probs[k]))
        return (f"{plabel}: the actions were picked with frequencies "
                f"{freq}; the exact probabilities are {np.round(probs, 3).tolist()} (action {k}: {got[1][k]} of {n}, "
                f"outside the plausible {lo}..{hi}). Epsilon-greedy picks a uniformly random action among all A "
                "with probability epsilon, else a greedy one, ties broken uniformly at random.")

    def key(t):
        """The known distribution that explains the counts best (stable across samples, unlike the counts)."""
        if isinstance(t, Raised) or t[0] != "counts":
            return t
        fits = [(name, p) for name, p in candidates(q, epsilon).items() if not consistent(t[1], p)]
        if not fits:
            return t
        if fits[0][0] == "right":  # plausible for the right distribution: right (whatever else fits too)
            return "right"
        return max(fits, key=lambda f: _loglik(t[1], f[1]))[0]
    return Probe(plabel, run, compare, key=key)


def _loglik(counts, probs) -> float:
    return float(sum(c * math.log(p) if c else 0.0 for c, p in zip(counts, probs)))


def probes_epsilon_greedy() -> list[Probe]:
    rng = np.random.default_rng(2002)
    # epsilon = 0 with a unique best action: always that action (exact), and a single action
    cases = [(rng.normal(size=int(rng.integers(2, 8))).round(3), 0.0) for _ in range(14)]
    cases += [(np.array([-1e9, 1e9, 0.0]), 0.0), (np.array([0.7]), 0.5), (np.array([-3.0]), 1.0)]
    seeds = [int(rng.integers(1 << 30)) for _ in cases]

    def greedy_run(s):
        return [_pick(s, q, eps, seed) for (q, eps), seed in zip(cases, seeds)]

    def greedy_compare(got, expected):
        if isinstance(got, Raised):
            return f"epsilon_greedy(q, epsilon=0, rng): raised {got}"
        for (q, eps), g in zip(cases, got):
            label = f"epsilon_greedy(q={np.round(q, 3).tolist()}, epsilon={eps:g}, rng)"
            problem = _bad_pick(label, g, q)
            if problem:
                return problem
            if g[1] != int(np.argmax(q)):
                return (f"{label} returned {g[1]}; " + ("with a single action it must be 0" if len(q) == 1 else
                        f"with epsilon = 0 the action must be the greedy one, {int(np.argmax(q))} (explore when "
                        "rng.random() < epsilon, never when epsilon = 0)"))
        return None

    def greedy_key(t):
        if isinstance(t, Raised):
            return t
        return tuple(g if g[0] != "ok" else ("ok", g[1] == int(np.argmax(q))) for (q, _), g in zip(cases, t))

    probes = [Probe("epsilon_greedy with epsilon = 0 and a unique best action (17 cases, one action included)",
                    greedy_run, greedy_compare, key=greedy_key)]

    # frequencies against the exact probabilities
    probes += [
        _draws([1.0, 3.0, 3.0, 0.0, 3.0], 0.0, 60, 10_000),
        _draws([0.5, -1.0, 2.0, 0.0], 1.0, 100, 20_000),
        _draws([2.0, -1.0, 0.0], 0.25, 120, 30_000),
        _draws([0.0, 5.0, 5.0], 0.3, 90, 40_000),
        _draws([-2.0, -1.0, -1.5, -3.0, -1.0, -4.0], 0.1, 60, 50_000),
    ]

    # the rng argument is the only source of randomness: the same generator seed gives the same action,
    # however numpy's global generator, random and torch were seeded
    q_rep = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    pairs = 16

    def rep_run(s):
        out = []
        for j in range(pairs):
            a = _pick(s, q_rep, 0.5, 900 + j, kernel_seed=1000 + j)
            b = _pick(s, q_rep, 0.5, 900 + j, kernel_seed=5000 + 7 * j)
            if a[0] != "ok" or b[0] != "ok":
                return a if a[0] != "ok" else b
            out.append((a[1], b[1]))
        return ("pairs", tuple(out))

    def rep_compare(got, expected):
        label = "epsilon_greedy(q, 0.5, np.random.default_rng(seed)) called twice with the same seed"
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        if got[0] != "pairs":
            return _bad_pick(label, got, q_rep)
        differ = [(a, b) for a, b in got[1] if a != b]
        if differ:
            return (f"{label} (numpy's global generator, random and torch seeded differently each time) gave "
                    f"different actions in {len(differ)} of {pairs} pairs, e.g. {differ[0]}: draw every random number "
                    "from the rng argument (not np.random or random), so that a seed reproduces a run")
        return None

    def rep_key(t):
        if isinstance(t, Raised) or t[0] != "pairs":
            return t
        return ("pairs", all(a == b for a, b in t[1]))
    probes.append(Probe("epsilon_greedy: the same rng seed gives the same action", rep_run, rep_compare, key=rep_key))
    return probes


# ---------------------------------------------------------------- q_learning_update and sarsa_update


def td_cases(rng: np.random.Generator, n: int, sarsa: bool):
    """Seeded transitions ``(label, Q, s, a, r, s_next, [a_next,] terminated, alpha, gamma)`` with the edge
    cases that matter: terminated next states whose Q rows are not zero, s_next == s, alpha = 1,
    gamma = 0, ties in Q[s_next], a one-state table, int rewards and numpy-int states."""
    cases = []
    for i in range(n):
        S, A = (1, 1) if i == 11 else (1, 3) if i == 13 else (int(rng.integers(2, 9)), int(rng.integers(2, 6)))
        Q = rng.normal(size=(S, A)).round(3)
        s, a = int(rng.integers(S)), int(rng.integers(A))
        s_next = s if i % 7 == 3 else int(rng.integers(S))
        a_next = int(rng.integers(A))
        if sarsa and i % 4 == 0:  # a_next is not the greedy action: the max gives another target
            a_next = int(np.argmin(Q[s_next]))
        if sarsa and i % 4 == 2 and A > 1:  # a_next differs from a
            a_next = (a + 1) % A
        r = round(float(rng.normal()), 3)
        if i % 6 == 4:
            r = int(rng.integers(-3, 4))  # an int reward, as environments return them
        terminated = bool(i % 2 == 1)
        alpha = 1.0 if i == 5 else float(rng.uniform(0.05, 0.9))
        gamma = 0.0 if i == 7 else 1.0 if i == 8 else float(rng.uniform(0.5, 0.999))
        if i == 9:
            Q[s_next] = 2.0  # ties in the next row
        if i % 5 == 2:  # numpy ints as states and actions (an env's observations often are)
            s, a, s_next, a_next = (np.int64(v) for v in (s, a, s_next, a_next))
        label = (f"#{i}: S={S}, A={A}, s={s}, a={a}, r={r}, s_next={s_next}"
                 + (f", a_next={a_next}" if sarsa else "") + f", terminated={terminated}, alpha={alpha:.2f}, "
                 f"gamma={gamma:.2f}")
        args = (s, a, r, s_next, a_next, terminated, alpha, gamma) if sarsa else \
            (s, a, r, s_next, terminated, alpha, gamma)
        cases.append((label, Q, args))
    return cases


_UPDATE_ARGS = {"q_learning_update": ["Q", "s", "a", "r", "s_next", "terminated", "alpha", "gamma"],
                "sarsa_update": ["Q", "s", "a", "r", "s_next", "a_next", "terminated", "alpha", "gamma"]}


def _update_trace(s, fn, Q, args):
    r = s.call(fn, Q.copy(), *args)
    Q_after = r.args_after[0]
    delta = r.value
    kind = "number" if _is_number(delta) else _show(delta)
    others = modified_args(Result(None, r.args_after[1:]), list(args), _UPDATE_ARGS[fn][1:])
    return kind, float(delta) if kind == "number" else None, Q_after, tuple(others)


def _update_problem(label, got, expected, Q) -> str | None:
    if isinstance(got, Raised):
        return f"{label}: raised {got}"
    kind, delta, Q_after, others = got
    if not isinstance(Q_after, np.ndarray) or Q_after.shape != Q.shape:
        return f"{label}: Q came back as {_show(Q_after)}"
    if np.array_equal(Q_after, Q) and not np.array_equal(expected[2], Q):
        if "shape" in kind:
            return (f"{label}: Q was not changed; it looks like you returned a new table. Update Q[s, a] in place "
                    "and return the TD error (a float)")
        return f"{label}: Q was not changed: update Q[s, a] in place"
    problem = diff(Q_after, expected[2], 1e-9, 1e-9, "Q after the update")
    if problem:
        return f"{label}: {problem}"
    if others:
        return f"{label}: changed its argument{'s' if len(others) > 1 else ''} {', '.join(others)}"
    if kind != "number":
        return f"{label}: must return the TD error (a float), got {kind}"
    problem = diff(delta, expected[1], 1e-9, 1e-9, "the TD error returned (target - Q[s, a], computed before "
                                                   "the update)")
    return f"{label}: {problem}" if problem else None


def _update_probes(fn: str, seed: int, sarsa: bool) -> list[Probe]:
    rng = np.random.default_rng(seed)
    probes = []
    for label, Q, args in td_cases(rng, 40, sarsa):
        def run(s, Q=Q, args=args):
            return _update_trace(s, fn, Q, args)

        def compare(got, expected, label=f"{fn} {label}", Q=Q):
            return _update_problem(label, got, expected, Q)
        probes.append(Probe(f"{fn} {label}", run, compare))

    # a sequence: eight updates in a row on one table (each on the table the previous one left)
    S, A = 4, 3
    Q0 = rng.normal(size=(S, A)).round(3)
    steps = []
    for t in range(8):
        s_, a_, s2, a2 = int(rng.integers(S)), int(rng.integers(A)), int(rng.integers(S)), int(rng.integers(A))
        if t in (2, 5):
            s_, a_ = steps[-1][0], steps[-1][1]  # the same entry again
        term = t in (3, 7)
        rest = (s_, a_, round(float(rng.normal()), 3), s2) + ((a2,) if sarsa else ()) + (term, 0.5, 0.9)
        steps.append(rest)
    seq_label = f"{fn}: eight updates in a row on one 4x3 table (each starts from the table the previous one left)"

    def seq_run(s):
        Q = Q0.copy()
        out = []
        for args in steps:
            r = s.call(fn, Q, *args)
            if not isinstance(r.args_after[0], np.ndarray) or r.args_after[0].shape != Q.shape:
                return ("table", _show(r.args_after[0]))
            Q = r.args_after[0]
            out.append((float(r.value) if _is_number(r.value) else _show(r.value), Q.copy()))
        return ("seq", out)

    def seq_compare(got, expected):
        if isinstance(got, Raised):
            return f"{seq_label}: raised {got}"
        if got[0] != "seq":
            return f"{seq_label}: Q came back as {got[1]}"
        for t, ((d, Q), (de, Qe)) in enumerate(zip(got[1], expected[1])):
            problem = diff(Q, Qe, 1e-9, 1e-9, f"Q after update {t + 1} of {seq_label}") or \
                diff(d, de, 1e-9, 1e-9, f"the TD error of update {t + 1} of {seq_label}")
            if problem:
                return problem
        return None
    probes.append(Probe(seq_label, seq_run, seq_compare))
    return probes


def probes_q_learning_update() -> list[Probe]:
    return _update_probes("q_learning_update", 2012, sarsa=False)


def probes_sarsa_update() -> list[Probe]:
    return _update_probes("sarsa_update", 2022, sarsa=True)


# ---------------------------------------------------------------- run_episode: a scripted spy environment


class ScriptedEnv:
    """An environment whose steps follow a script of ``(next_state, reward, terminated, truncated)``,
    whatever the action; it records the actions and the reset seeds, and refuses a step before a reset
    or after the episode ended. Its action numbers are big, so every policy answer is recognisable."""

    def __init__(self, episodes):
        self.episodes = list(episodes)  # [(start, script), ...]: one per reset
        self.actions, self.seeds, self.t, self.done, self.script = [], [], 0, True, []

    def reset(self, seed=None, options=None):
        self.seeds.append(_plain(seed))
        if len(self.seeds) > len(self.episodes):
            raise AssertionError(f"env.reset() was called {len(self.seeds)} times for {len(self.episodes)} "
                                 "episode(s): reset once, at the start of the episode")
        start, self.script = self.episodes[len(self.seeds) - 1]
        self.t, self.done = 0, False
        return start, {}

    def step(self, action):
        if self.done:
            raise AssertionError(
                "env.step() was called after the episode ended (or before env.reset()): stop the loop as soon as a "
                "step returns terminated or truncated")
        self.actions.append(_plain(action))
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
        self.calls.append((_plain(state), action))
        return action


class SpyUpdate:
    def __init__(self):
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append(tuple(_plain(a) for a in args) + tuple(_plain(v) for v in kwargs.values()))
        return 0.0


def call_with_keywords(s, fn: str, args: list, kwargs: dict) -> Result:
    """``s.call`` for keyword arguments ``call`` reserves (``seed``): the request is built here, alike."""
    callbacks: list = []
    req = {"op": "call", "fn": fn, "args": [wire.encode(a, callbacks) for a in args],
           "kwargs": [[k, wire.encode(v, callbacks)] for k, v in kwargs.items()],
           "deps": [], "seed": None, "backward": False}
    s._callbacks = callbacks
    try:
        answer = s.request(req)
    finally:
        s._callbacks = []
    if "raised" in answer:
        raise StudentRaised(Raised(str(answer["raised"]["ename"]), str(answer["raised"]["evalue"])))
    return Result(wire.decode(answer["ok"]), [wire.decode(a) for a in answer["args_after"]])


def _env_proxy(env):
    from gymnasium import spaces
    return Proxy(env, ("reset", "step"), {"observation_space": spaces.Discrete(64),
                                          "action_space": spaces.Discrete(100_000)})


def _episode_trace(s, episodes, seeds, keyword=False):
    """Run the student's run_episode once per episode on one spy environment; the raw record."""
    env, policy, update = ScriptedEnv(episodes), SpyPolicy(), SpyUpdate()
    results = []
    for seed in seeds:
        args = [_env_proxy(env), Callback(policy), Callback(update)]
        try:
            if keyword:
                r = call_with_keywords(s, "run_episode", args, {"seed": seed})
            else:
                r = s.call("run_episode", *args, seed)
        except StudentRaised as exc:
            results.append(exc.raised)
            break
        results.append(_plain(r.value) if isinstance(r.value, (tuple, list)) else r.value)
    return {"seeds": env.seeds, "actions": env.actions, "asked": policy.calls, "updates": update.calls,
            "results": results}


def episode_problem(name: str, episodes, seeds, trace) -> str | None:
    """What is wrong with one spy record (None when every interaction is right)."""
    if isinstance(trace, Raised):
        return f"{name}: raised {trace}"
    raised = [r for r in trace["results"] if isinstance(r, Raised)]
    if raised:
        return f"{name}: raised {raised[0]}"
    if trace["seeds"] != list(seeds):
        return (f"{name}: reset the environment once per episode, at its start, with env.reset(seed=seed) (seed "
                f"passed through as given, None included); the resets got seeds {trace['seeds']}, expected {list(seeds)}")
    lengths = [len(script) for _, script in episodes]
    if len(trace["updates"]) == sum(lengths) - len(episodes) and len(trace["actions"]) == sum(lengths):
        return (f"{name}: update was called {len(trace['updates'])} times for {sum(lengths)} steps: the last "
                "transition (the one that ends the episode) must be learned from too; call update before leaving "
                "the loop")
    asked = {action: state for state, action in trace["asked"]}
    actions, updates = list(trace["actions"]), list(trace["updates"])
    for k, ((start, script), result) in enumerate(zip(episodes, trace["results"])):
        where = name if len(episodes) == 1 else f"{name}, episode {k + 1}"
        T = len(script)
        taken, actions = actions[:T], actions[T:]
        states = [start] + [step[0] for step in script]
        if len(taken) < T:
            return (f"{where}: the episode lasts {T} steps (it ends when a step returns terminated or truncated); "
                    f"the loop took {len(taken)}")
        for t, action in enumerate(taken):
            if action not in asked:
                return f"{where}: step {t} took action {action!r}, which the policy never returned"
            if asked[action] != states[t]:
                return (f"{where}: the action taken at step {t} came from policy({asked[action]!r}) but the agent was "
                        f"in state {states[t]}: after each step, s must become s_next")
        mine = updates[:T]
        if len(mine) < T:
            return f"{where}: update should be called once per step ({T}), it was called {len(mine)} times"
        updates = updates[T:]
        for t, call in enumerate(mine):
            if len(call) != 6:
                return f"{where}: update #{t} got {len(call)} arguments, expected (s, a, r, s_next, a_next, terminated)"
            s_, a, r, s2, a2, term = call
            e_s2, e_r, e_term, e_trunc = script[t]
            if (s_, s2) != (states[t], e_s2):
                return f"{where}: update #{t} got (s, s_next) = ({s_!r}, {s2!r}), expected ({states[t]}, {e_s2})"
            if a != taken[t]:
                return f"{where}: update #{t} got a = {a!r}, but the action taken at that step was {taken[t]}"
            if not _is_number(r) or abs(float(r) - e_r) > 1e-12:
                return f"{where}: update #{t} got reward {r!r}, the step returned {e_r}"
            if not isinstance(term, bool) or term != e_term:
                if e_trunc and not e_term and term is True:
                    return (f"{where}: step {t} was truncated (a time limit), not terminated, and update got "
                            "terminated=True: pass `terminated`, not `terminated or truncated`, so that the agent "
                            "still bootstraps from s_next (a time limit is not a terminal state)")
                return f"{where}: update #{t} got terminated={term!r}, the step returned terminated={e_term}"
            if t + 1 < T:
                if a2 != taken[t + 1]:
                    return (f"{where}: update #{t} got a_next = {a2!r}, but the action taken at the next step was "
                            f"{taken[t + 1]}: choose a_next once with the policy, pass it to update and take it at the "
                            "next step (that is what makes SARSA on-policy)")
            elif e_trunc and not e_term and not (a2 in asked and asked[a2] == e_s2):
                return (f"{where}: on the last step the episode was truncated (a time limit), so s_next still has a "
                        f"value and SARSA needs a_next = policy(s_next); update got a_next = {a2!r}")
        expected_total = float(sum(step[1] for step in script))
        if not isinstance(result, tuple) or len(result) != 2:
            return f"{where}: run_episode must return a tuple (total_reward, steps), got {_show(result)}"
        total, steps = result
        if not _is_number(total) or abs(float(total) - expected_total) > 1e-9:
            return (f"{where}: total_reward should be the undiscounted sum of the episode's rewards, "
                    f"{expected_total:g}; got {_show(total)}")
        if not _is_int(steps) or int(steps) != T:
            return f"{where}: steps should be the int {T}, got {_show(steps)}"
    if actions:
        return f"{name}: the loop took {len(actions)} steps more than the episode lasts"
    if updates:
        return f"{name}: update was called {len(updates)} times more than there were steps"
    return None


def _episode_probe(name, episodes, seeds, keyword=False) -> Probe:
    def run(s):
        return _episode_trace(s, episodes, seeds, keyword)

    def compare(got, expected):
        return episode_problem(name, episodes, seeds, got)

    def key(t):
        return episode_problem(name, episodes, seeds, t) or "right"
    return Probe(name, run, compare, key=key)


def episode_scripts(rng: np.random.Generator):
    """Named scripts ``(name, start, steps, seed)``: terminated, truncated, both at once, one step, and
    long random ones."""
    scripts = [
        ("an episode that terminates after 3 steps", 0,
         [(1, 0.5, False, False), (2, -1.0, False, False), (3, 2.0, True, False)], 7),
        ("an episode truncated by a time limit after 4 steps", 5,
         [(6, 0.0, False, False), (6, 1.0, False, False), (7, -0.5, False, False), (8, 1.0, False, True)], None),
        ("an episode that is terminated and truncated on the same step", 2,
         [(3, 1.0, False, False), (4, 1.0, True, True)], 3),
        ("an episode of one step that terminates", 9, [(10, 3.0, True, False)], 0),
        ("an episode of one step that is truncated", 9, [(9, -1.0, False, True)], None),
        ("an episode that revisits its states (0 -> 1 -> 0 -> 1 -> 2, terminated)", 0,
         [(1, 0.0, False, False), (0, 0.0, False, False), (1, 1, False, False), (2, 5, True, False)], 12),
    ]
    for k in range(4):
        T = int(rng.integers(5, 30))
        steps = [(int(rng.integers(64)), round(float(rng.normal()), 3), False, False) for _ in range(T - 1)]
        last_truncated = k % 2 == 0
        steps.append((int(rng.integers(64)), round(float(rng.normal()), 3), not last_truncated, last_truncated))
        scripts.append((f"a random {'truncated' if last_truncated else 'terminated'} episode of {T} steps",
                        int(rng.integers(64)), steps, int(rng.integers(100)) if k % 3 else None))
    return scripts


class StopAtTheEnd:
    """A real environment that refuses a step after its episode ended (instead of running for ever)."""

    def __init__(self, env):
        self.env, self.done = env, True

    def reset(self, seed=None, options=None):
        self.done = False
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        if self.done:
            raise AssertionError("env.step() was called after the episode ended (terminated or truncated): the loop "
                                 "must stop there")
        out = self.env.step(action)
        self.done = bool(out[2] or out[3])
        return out


def _frozenlake_probe(label, moves, seed, expect) -> Probe:
    """A real FrozenLake-v1 (not slippery, its 100-step time limit) behind a proxy."""
    def run(s):
        import gymnasium as gym
        env = gym.make("FrozenLake-v1", is_slippery=False)
        update = SpyUpdate()
        it = iter(moves)
        try:
            r = s.call("run_episode", Proxy(StopAtTheEnd(env), ("reset", "step"), {"observation_space": env.observation_space,
                                                                     "action_space": env.action_space}),
                       Callback(lambda state: next(it, 0)), Callback(update), seed)
        except StudentRaised as exc:
            return exc.raised
        return _plain(r.value) if isinstance(r.value, (tuple, list)) else r.value, [c[5] if len(c) == 6 else c
                                                                                    for c in update.calls]

    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        result, flags = got
        if result != expected[0] or flags != expected[1]:
            n_term = sum(1 for f in flags if f is True)
            hint = (" (a time limit treated as a terminal state: update must get terminated=False when the step was "
                    "only truncated)" if expect == "truncated" and n_term else "")
            return (f"{label}: expected (total_reward, steps) = {expected[0]} and {len(expected[1])} updates with "
                    f"terminated flags ending in {expected[1][-1]}; got {_show(result)}, {len(flags)} updates, "
                    f"{n_term} with terminated=True{hint}")
        return None
    return Probe(label, run, compare)


def probes_run_episode() -> list[Probe]:
    rng = np.random.default_rng(2032)
    probes = []
    for k, (name, start, steps, seed) in enumerate(episode_scripts(rng)):
        probes.append(_episode_probe(f"run_episode on {name} (seed={seed})", [(start, steps)], [seed]))
    # the seed as a keyword, as train() passes it
    probes.append(_episode_probe("run_episode(env, policy, update, seed=4) (by keyword) on an episode truncated "
                                 "after 2 steps", [(3, [(4, 1.0, False, False), (5, 2.0, False, True)])], [4],
                                 keyword=True))
    # a sequence on one environment, as train() does: the first episode seeded, the next ones seed=None
    episodes = [(0, [(1, 1.0, False, False), (2, 0.0, True, False)]),
                (5, [(6, -1.0, False, False), (7, 0.5, False, False), (8, 0.0, False, True)]),
                (1, [(2, 2.0, True, False)])]
    probes.append(_episode_probe("three run_episode calls in a row on one environment (seeds 11, None, None)",
                                 episodes, [11, None, None]))
    probes.append(_frozenlake_probe("FrozenLake-v1 (not slippery, 100-step time limit), always left, seed=3",
                                    [], 3, "truncated"))
    probes.append(_frozenlake_probe("FrozenLake-v1 (not slippery): down, right falls into the hole at (1, 1)",
                                    [1, 2], 0, "terminated"))
    probes.append(_frozenlake_probe("FrozenLake-v1 (not slippery): down, down, right, right, down, right reaches the "
                                    "goal", [1, 1, 2, 2, 1, 2], 0, "terminated"))
    return probes


EXERCISES = [
    Exercise("epsilon_greedy", probes_epsilon_greedy),
    Exercise("q_learning_update", probes_q_learning_update),
    Exercise("sarsa_update", probes_sarsa_update),
    Exercise("run_episode", probes_run_episode),
]

# ---------------------------------------------------------------- known mistakes (each written once)

_EG_RANDOM = "return int(rng.integers(len(q_values)))"
_EG_GREEDY = "best = np.flatnonzero(q_values == q_values.max())\n    return int(rng.choice(best))"
_QL_TARGET = "target = r if terminated else r + gamma * np.max(Q[s_next])"
_SA_TARGET = "target = r if terminated else r + gamma * Q[s_next, a_next]"
_DELTA = "delta = float(target - Q[s, a])"
_STEP = "Q[s, a] += alpha * delta"
_UPDATE = "a_next = policy(s_next)\n        update(s, a, r, s_next, a_next, terminated)"


def _td_mistakes(ex: str, target: str, bootstrap: str) -> list[Mistake]:
    return [
        Mistake(ex, "bootstrapping through a terminal state (when terminated, the target is just r)",
                target, f"target = r + gamma * {bootstrap}"),
        Mistake(ex, "gamma missing from the bootstrap term", "r + gamma * ", "r + "),
        Mistake(ex, "the learning rate is missing: Q[s, a] jumps to the target (alpha = 1)", _STEP, "Q[s, a] += delta"),
        Mistake(ex, "sign error: Q moves away from the target (Q - target instead of target - Q)",
                _STEP, "Q[s, a] -= alpha * delta"),
        Mistake(ex, "the TD error is returned with the wrong sign (Q[s, a] - target)", "return delta", "return -delta"),
        Mistake(ex, "the TD error was computed after the update (compute it before changing Q)",
                "return delta", "return float(target - Q[s, a])"),
        Mistake(ex, "Q is not updated in place (a copy is changed): the caller's table must change",
                _STEP, "Q = Q.copy()\n    Q[s, a] += alpha * delta"),
        Mistake(ex, "returns the table instead of the TD error", "return delta", "return Q"),
    ]


MISTAKES = [
    Mistake("epsilon_greedy", "ties broken towards the first action (np.argmax): break ties at random, e.g. "
            "rng.choice(np.flatnonzero(q == q.max()))", _EG_GREEDY, "return int(np.argmax(q_values))"),
    Mistake("epsilon_greedy", "explores with probability 1 - epsilon instead of epsilon (the comparison is inverted)",
            "rng.random() < epsilon", "rng.random() > epsilon"),
    Mistake("epsilon_greedy", "the random action never picks a greedy action: draw it from all A actions",
            _EG_RANDOM, "q_values = np.asarray(q_values)\n        others = np.flatnonzero(q_values != q_values.max())\n"
            "        return int(rng.choice(others)) if len(others) else int(rng.integers(len(q_values)))"),
    Mistake("epsilon_greedy", "the random draw comes from np.random instead of the rng argument (a seed does not "
            "reproduce a run)", "rng.random() < epsilon", "np.random.random() < epsilon"),
    Mistake("epsilon_greedy", "never explores (epsilon is ignored)", "if rng.random() < epsilon:", "if False:"),
    Mistake("epsilon_greedy", "the random action is drawn from 0..A-2 (rng.integers(A - 1)): the last action is "
            "never explored", _EG_RANDOM, "return int(rng.integers(len(q_values) - 1))"),
    Mistake("q_learning_update", "updating the wrong entry (Q[s_next, a] instead of Q[s, a])",
            f"{_DELTA}\n    {_STEP}", "delta = float(target - Q[s_next, a])\n    Q[s_next, a] += alpha * delta"),
    Mistake("q_learning_update", "the max is taken over the current state's row Q[s] instead of Q[s_next]",
            "np.max(Q[s_next])", "np.max(Q[s])"),
    Mistake("q_learning_update", "the mean over Q[s_next] instead of the max (that is expected SARSA with a uniform "
            "policy)", "np.max(Q[s_next])", "np.mean(Q[s_next])"),
    Mistake("q_learning_update", "argmax instead of max: the target uses the index of the best action, not its value",
            "np.max(Q[s_next])", "np.argmax(Q[s_next])"),
    *_td_mistakes("q_learning_update", _QL_TARGET, "np.max(Q[s_next])"),
    Mistake("sarsa_update", "using the max over next actions in SARSA (that is Q-learning): SARSA bootstraps from "
            "Q[s_next, a_next], the action the agent will really take", "Q[s_next, a_next]", "np.max(Q[s_next])"),
    Mistake("sarsa_update", "updating the wrong entry (Q[s_next, a_next] instead of Q[s, a])",
            f"{_DELTA}\n    {_STEP}", "delta = float(target - Q[s_next, a_next])\n    Q[s_next, a_next] += alpha * delta"),
    Mistake("sarsa_update", "the target uses Q[s_next, a] (the current action) instead of Q[s_next, a_next]",
            "Q[s_next, a_next]", "Q[s_next, a]"),
    *_td_mistakes("sarsa_update", _SA_TARGET, "Q[s_next, a_next]"),
    Mistake("run_episode", "a time limit treated as a terminal state (update gets terminated or truncated)",
            _UPDATE, _UPDATE.replace("terminated)", "terminated or truncated)")),
    Mistake("run_episode", "the last transition is not learned from (update is skipped on the step that ends the "
            "episode)", f"{_UPDATE}\n        if terminated or truncated:\n            return total_reward, steps",
            f"if terminated or truncated:\n            return total_reward, steps\n        {_UPDATE}"),
    Mistake("run_episode", "the action is chosen again at the next step: a_next given to update is not the action "
            "taken (SARSA's target would use an action that never happens)",
            "s, a = s_next, a_next", "s, a = s_next, policy(s_next)"),
    Mistake("run_episode", "reset ignores the seed (env.reset() instead of env.reset(seed=seed))",
            "s, _ = env.reset(seed=seed)", "s, _ = env.reset()"),
    Mistake("run_episode", "the loop stops only on terminated: a truncated episode (time limit) runs past its end",
            "if terminated or truncated:", "if terminated:"),
    Mistake("run_episode", "the state is not advanced (s must become s_next after each step)",
            "s, a = s_next, a_next", "a = a_next"),
    Mistake("run_episode", "total_reward keeps only the last reward (use +=)",
            "total_reward += float(r)", "total_reward = float(r)"),
    Mistake("run_episode", "update gets a (the current action) as a_next",
            _UPDATE, _UPDATE.replace("s_next, a_next, terminated)", "s_next, a, terminated)")),
    Mistake("run_episode", "update gets truncated instead of terminated",
            _UPDATE, _UPDATE.replace("a_next, terminated)", "a_next, truncated)")),
]

# ---------------------------------------------------------------- equivalent mutants
# Mutants of the solution that no check can kill, because they do not change what the exercise
# promises: (exercise, original line, mutated line, why). `python -m autograder mutants 02_qlearning`
# counts them apart; every other survivor is a missing check.

EQUIVALENT_MUTANTS = [
    ("epsilon_greedy", "if rng.random() < epsilon:", "if rng.random() <= epsilon:",
     "differs only when the uniform draw equals epsilon exactly (probability 0)"),
    ("epsilon_greedy", "best = np.flatnonzero(q_values == q_values.max())",
     "best = np.flatnonzero(q_values >= q_values.max())",
     "no value exceeds the max: >= selects exactly the actions == does (none at all if q holds a NaN, like ==)"),
]
