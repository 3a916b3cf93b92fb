"""Reference implementations and hidden-check helpers for chapter 01 (instructors only).

Hidden test cells load this file fresh with ``course_lib.grading.load_reference("01_intro")``.
Besides the reference functions it holds the known mistakes (what a typical wrong answer returns),
so that a failing check can name the mistake, and the generators of seeded random test inputs.
"""
from __future__ import annotations

import warnings

import numpy as np

# ---------------------------------------------------------------- references


def discounted_return(rewards, gamma: float) -> float:
    g = 0.0
    for r in reversed([float(r) for r in rewards]):
        g = r + gamma * g
    return g


def bellman_backup(P, R, terminal, V, gamma):
    return R + gamma * P @ (V * ~terminal)


def policy_evaluation(P, R, terminal, policy, gamma, tol=1e-10, max_iters=100_000):
    V = np.zeros(P.shape[0])
    for _ in range(max_iters):
        V_new = (policy * bellman_backup(P, R, terminal, V, gamma)).sum(axis=1)
        done = np.max(np.abs(V_new - V)) < tol
        V = V_new
        if done:
            break
    return V


def value_iteration(P, R, terminal, gamma, tol=1e-10, max_iters=100_000):
    V = np.zeros(P.shape[0])
    for _ in range(max_iters):
        V_new = bellman_backup(P, R, terminal, V, gamma).max(axis=1)
        done = np.max(np.abs(V_new - V)) < tol
        V = V_new
        if done:
            break
    return V, bellman_backup(P, R, terminal, V, gamma).argmax(axis=1)


# ---------------------------------------------------------------- known mistakes


def return_mistakes(rewards, gamma):
    rewards = np.asarray(rewards, dtype=float)
    t = np.arange(len(rewards))
    return {
        "discounting starts at gamma^1 instead of gamma^0 (off by one)": float(np.sum(gamma ** (t + 1) * rewards)),
        "no discounting (gamma ignored)": float(np.sum(rewards)),
        "discounts applied in reverse order (gamma^(T-1-t))": float(np.sum(gamma ** t[::-1] * rewards)),
        "only the last reward, or only the first": float(rewards[0]) if len(rewards) else 0.0,
    }


def backup_mistakes(P, R, terminal, V, gamma):
    return {
        "bootstrapping through a terminal state (V of terminal next states must count as 0)":
            R + gamma * P @ V,
        "gamma missing from the bootstrap term": R + P @ (V * ~terminal),
        "the terminal mask is applied to the current state instead of the next state":
            (R + gamma * P @ V) * ~terminal[:, None],
    }


def evaluation_mistakes(P, R, terminal, policy, gamma):
    S, A = R.shape
    no_mask = np.zeros(S)
    uniform = np.full((S, A), 1.0 / A)
    for _ in range(20_000):
        no_mask = (policy * (R + gamma * P @ no_mask)).sum(1)
    return {
        "bootstrapping through a terminal state": no_mask,
        "the policy's probabilities are ignored (uniform average over actions)":
            policy_evaluation(P, R, terminal, uniform, gamma),
        "max over actions instead of the policy's average (that is value iteration)":
            value_iteration(P, R, terminal, gamma)[0],
    }


# ---------------------------------------------------------------- test inputs


def random_mdp(rng: np.random.Generator, n_states: int | None = None, n_actions: int | None = None):
    """A random MDP ``(P, R, terminal)`` with 1-3 terminal states that still have rewards and exits,
    so that forgetting the terminal mask changes the answer."""
    S = int(n_states or rng.integers(3, 12))
    A = int(n_actions or rng.integers(1, 5))
    P = rng.random((S, A, S)) ** 3
    P /= P.sum(axis=2, keepdims=True)
    R = rng.normal(size=(S, A))
    terminal = np.zeros(S, dtype=bool)
    terminal[rng.choice(S, size=min(S - 1, int(rng.integers(1, 4))), replace=False)] = True
    return P, R, terminal


def random_policy(rng: np.random.Generator, S: int, A: int):
    pi = rng.random((S, A)) + 1e-3
    return pi / pi.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- the Corridor environment


def check_corridor(Corridor) -> list[str]:
    """Run the hidden checks of the Corridor exercise; returns the passed checks' names.

    Raises AssertionError naming the first failed check and the mistake it looks like.
    """
    from gymnasium.utils.env_checker import check_env

    done = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = Corridor(length=7, slip=0.0, max_steps=50)
        check_env(env, skip_render_check=True)
    messages = [str(w.message) for w in caught if "Corridor" in str(w.message) or "obs" in str(w.message)
                or "reset" in str(w.message) or "step" in str(w.message)]
    assert not messages, f"gymnasium's env checker warned: {messages[0]}"
    done.append("check_env")

    env = Corridor(length=7, slip=0.0, max_steps=50)
    obs, info = env.reset(seed=0)
    assert obs == 3, f"reset: the agent starts in the middle cell length // 2 = 3, got {obs!r}"
    assert isinstance(info, dict), "reset must return (observation, info dict)"
    trace = []
    for _ in range(3):
        obs, r, term, trunc, _ = env.step(1)
        trace.append((int(obs), float(r), bool(term), bool(trunc)))
    assert trace == [(4, 0.0, False, False), (5, 0.0, False, False), (6, 1.0, True, False)], (
        f"three steps right from cell 3 with slip=0 should give (obs, reward, terminated, truncated) = "
        f"(4, 0, F, F), (5, 0, F, F), (6, 1, T, F); got {trace}")
    done.append("right end: +1, terminated")

    env.reset(seed=1)
    trace = [env.step(0)[:4] for _ in range(3)]
    last = (int(trace[-1][0]), float(trace[-1][1]), bool(trace[-1][2]), bool(trace[-1][3]))
    assert last == (0, -1.0, True, False), (
        f"three steps left from cell 3 should end in cell 0 with reward -1, terminated=True, "
        f"truncated=False; the last step gave {last}")
    done.append("left end: -1, terminated")

    env = Corridor(length=5, slip=0.0, max_steps=4)
    env.reset(seed=0)
    flags = [tuple(bool(x) for x in env.step(a)[2:4]) for a in (1, 0, 1, 0)]
    if flags[-1] == (True, False):
        raise AssertionError("at the time limit the episode is truncated, not terminated: a time limit "
                             "is not a terminal state (bootstrapping would stop there)")
    assert flags == [(False, False)] * 3 + [(False, True)], (
        f"with max_steps=4 the 4th step should return terminated=False, truncated=True and the first "
        f"three neither; got (terminated, truncated) = {flags}")
    done.append("time limit: truncated, not terminated")

    env = Corridor(length=9, slip=1.0, max_steps=100)
    env.reset(seed=0)
    obs = env.step(1)[0]
    assert obs == 3, f"with slip=1.0 every move goes the other way: right from 4 should reach 3, got {obs}"
    done.append("slip=1 reverses moves")

    env = Corridor(length=101, slip=0.3, max_steps=10_000)
    env.reset(seed=123)
    flips, pos, n = 0, 50, 2000
    for i in range(n):
        if pos in (1, 99):  # keep away from the ends
            env.reset()
            pos = 50
        obs = int(env.step(1)[0])
        flips += obs < pos
        pos = obs
    rate = flips / n
    assert 0.25 <= rate <= 0.35, (
        f"with slip=0.3 about 30% of moves should go the other way; measured {rate:.1%} over {n} "
        "steps. Use self.np_random (seeded by reset) for the slip.")
    done.append("slip=0.3 flips about 30% of moves")

    a, b = Corridor(length=15, slip=0.5, max_steps=30), Corridor(length=15, slip=0.5, max_steps=30)
    a.reset(seed=7)
    b.reset(seed=7)
    ta = [int(a.step(1)[0]) for _ in range(10)]
    tb = [int(b.step(1)[0]) for _ in range(10)]
    assert ta == tb, ("the same seed must give the same episode: draw the slip from self.np_random, "
                      "which super().reset(seed=seed) seeds")
    done.append("seeded reset is reproducible")
    return done


# ---------------------------------------------------------------- hidden checks, one per exercise
# ``checks`` is a fresh copy of course_lib.checks, attached by course_lib.grading.load_reference.


def hidden_discounted_return(fn) -> None:
    rng = np.random.default_rng(101)
    cases = [([], 0.9), ([5.0], 0.0), ([1.0, 2.0, 3.0], 0.0), ([1.0, 2.0, 3.0], 1.0), ((1, 1, 1), 0.5),
             (np.array([0.0, 0.0, 10.0]), 0.9)]
    for _ in range(25):
        cases.append((rng.normal(size=int(rng.integers(1, 40))).round(3), float(rng.uniform(0, 1))))
    for rewards, gamma in cases:
        got = fn(rewards, gamma)
        checks.check_type(got, (float, int, np.floating, np.integer), "discounted_return(...)")
        checks.check_close(float(got), discounted_return(rewards, gamma),
                           f"discounted_return({list(np.round(rewards, 3))[:6]}..., gamma={gamma:.3f})",
                           atol=1e-8, rtol=1e-8, mistakes=return_mistakes(rewards, gamma) if len(rewards) > 1 else None)


def hidden_bellman_backup(fn) -> None:
    rng = np.random.default_rng(202)
    for i in range(25):
        P, R, terminal = random_mdp(rng, n_states=1 if i == 0 else None)
        if i == 0:
            terminal[:] = False
        V = rng.normal(size=P.shape[0])
        gamma = float(rng.uniform(0.5, 0.99))
        got = fn(P.copy(), R.copy(), terminal.copy(), V.copy(), gamma)
        checks.check_close(got, bellman_backup(P, R, terminal, V, gamma), f"Q (random MDP #{i}, S={P.shape[0]}, A={P.shape[1]})",
                           atol=1e-8, rtol=1e-8, mistakes=backup_mistakes(P, R, terminal, V, gamma))


def hidden_policy_evaluation(fn) -> None:
    rng = np.random.default_rng(303)
    for i in range(12):
        P, R, terminal = random_mdp(rng)
        pi = random_policy(rng, *R.shape)
        if i % 4 == 0:  # deterministic policies as one-hot rows
            pi = np.eye(R.shape[1])[rng.integers(0, R.shape[1], size=R.shape[0])]
        gamma = float(rng.uniform(0.5, 0.95))
        got = fn(P.copy(), R.copy(), terminal.copy(), pi.copy(), gamma)
        checks.check_close(got, policy_evaluation(P, R, terminal, pi, gamma),
                           f"V (random MDP #{i}, S={P.shape[0]}, A={P.shape[1]}, gamma={gamma:.2f})",
                           atol=1e-5, rtol=1e-5, mistakes=evaluation_mistakes(P, R, terminal, pi, gamma))


def hidden_value_iteration(fn) -> None:
    rng = np.random.default_rng(404)
    for i in range(12):
        P, R, terminal = random_mdp(rng)
        gamma = float(rng.uniform(0.5, 0.95))
        result = fn(P.copy(), R.copy(), terminal.copy(), gamma)
        assert isinstance(result, tuple) and len(result) == 2, \
            f"value_iteration must return a tuple (V, policy), got {type(result).__name__}"
        V, policy = result
        V_ref, _ = value_iteration(P, R, terminal, gamma)
        no_mask = {"bootstrapping through a terminal state":
                   value_iteration(P, R, np.zeros_like(terminal), gamma)[0]}
        checks.check_close(V, V_ref, f"V* (random MDP #{i})", atol=1e-5, rtol=1e-5, mistakes=no_mask)
        checks.check_shape(policy, (P.shape[0],), "policy")
        policy = np.asarray(policy)
        assert np.issubdtype(policy.dtype, np.integer), f"policy must hold integer actions, got dtype {policy.dtype}"
        Q = bellman_backup(P, R, terminal, V_ref, gamma)
        picked = Q[np.arange(len(policy)), policy]
        assert checks.is_close(picked, Q.max(axis=1), atol=1e-5, rtol=0), (
            f"random MDP #{i}: the policy is not greedy with respect to Q* in states "
            f"{np.flatnonzero(picked < Q.max(axis=1) - 1e-5).tolist()} (use argmax over actions of "
            "the backup of the final V)")
