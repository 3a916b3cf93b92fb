"""Chapter 02's hidden checks in-process: other correct ways to write each exercise pass (the checks
judge behaviour, not the instructor's code), wrong ones fail with a useful message, the epsilon-greedy
frequency test is exact (binomial acceptance intervals), and run_episode is watched call by call."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.reference import ch02_qlearning as ch02
from autograder.verdict import converted_chapters, extract
from autograder.verdict.core import Chapter

pytestmark = pytest.mark.skipif("02_qlearning" not in converted_chapters(), reason="chapter 02 not converted")

_CH: list[Chapter] = []


def chapter() -> Chapter:
    if not _CH:
        _CH.append(Chapter("02_qlearning"))
    return _CH[0]


def grade(exercise: str, code: str):
    ch = chapter()
    ns = extract.namespace(ch.text)
    exec(code, ns)
    return ch.grade(exercise, ch.student(ns))


OTHER_RIGHT = {
    "epsilon_greedy": [
        # draws the tie-break first, explores with rng.choice over range(A)
        "def epsilon_greedy(q_values, epsilon, rng):\n"
        "    q = np.asarray(q_values, dtype=float)\n"
        "    greedy = rng.permutation(np.flatnonzero(q == np.max(q)))[0]\n"
        "    explore = rng.uniform() < epsilon\n"
        "    return int(rng.choice(len(q))) if explore else int(greedy)\n",
        # one draw from the exact probabilities
        "def epsilon_greedy(q_values, epsilon, rng):\n"
        "    q = np.asarray(q_values, dtype=float)\n"
        "    best = q == q.max()\n"
        "    p = epsilon / len(q) + (1 - epsilon) * best / best.sum()\n"
        "    return int(rng.choice(len(q), p=p))\n",
    ],
    "q_learning_update": [
        "def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):\n"
        "    old = Q[s, a]\n"
        "    td = r + gamma * Q[s_next].max() * (1 - terminated) - old\n"
        "    Q[s, a] = old + alpha * td\n"
        "    return td\n",
    ],
    "sarsa_update": [
        "def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):\n"
        "    target = r + (0.0 if terminated else gamma * Q[s_next][a_next])\n"
        "    td = target - Q[s][a]\n"
        "    Q[s][a] = (1 - alpha) * Q[s][a] + alpha * target\n"
        "    return np.float64(td)\n",
    ],
    "run_episode": [
        # a while-not-done loop, no policy call after a terminal step (a_next is then unused)
        "def run_episode(env, policy, update, seed=None):\n"
        "    s, info = env.reset(seed=seed)\n"
        "    a = policy(s)\n"
        "    total, n, done = 0, 0, False\n"
        "    while not done:\n"
        "        s2, r, terminated, truncated, info = env.step(a)\n"
        "        a2 = None if terminated else policy(s2)\n"
        "        update(s, a, r, s2, a2, terminated)\n"
        "        total, n = total + r, n + 1\n"
        "        done = terminated or truncated\n"
        "        s, a = s2, a2\n"
        "    return float(total), n\n",
    ],
}


@pytest.mark.parametrize("exercise,index", [(e, i) for e, codes in OTHER_RIGHT.items() for i in range(len(codes))])
def test_another_right_answer_passes(exercise, index):
    verdict = grade(exercise, OTHER_RIGHT[exercise][index])
    assert verdict.passed, verdict.message


def test_epsilon_greedy_that_ignores_its_rng_is_caught():
    verdict = grade("epsilon_greedy", "import random\n"
                    "def epsilon_greedy(q_values, epsilon, rng):\n"
                    "    q = np.asarray(q_values)\n"
                    "    if random.random() < epsilon:\n"
                    "        return random.randrange(len(q))\n"
                    "    return int(rng.choice(np.flatnonzero(q == q.max())))\n")
    assert not verdict.passed and "rng argument" in verdict.message


def test_an_unknown_wrong_epsilon_greedy_is_not_named():
    verdict = grade("epsilon_greedy", "def epsilon_greedy(q_values, epsilon, rng):\n    return len(q_values) - 1\n")
    assert not verdict.passed and verdict.mistakes == [] and "known mistake" not in verdict.message


def test_run_episode_stepping_past_the_end_says_so():
    verdict = grade("run_episode", "def run_episode(env, policy, update, seed=None):\n"
                    "    s, _ = env.reset(seed=seed)\n"
                    "    total = 0.0\n"
                    "    for t in range(100):\n"
                    "        a = policy(s)\n"
                    "        s2, r, term, trunc, _ = env.step(a)\n"
                    "        update(s, a, r, s2, policy(s2), term)\n"
                    "        total += r\n"
                    "        s = s2\n"
                    "    return total, 100\n")
    assert not verdict.passed and "after the episode ended" in verdict.message


def test_acceptance_intervals_are_exact_binomial_tails():
    assert ch02.acceptance(50, 0.0) == (0, 0) and ch02.acceptance(50, 1.0) == (50, 50)
    lo, hi = ch02.acceptance(100, 0.25)
    assert 0 < lo < 25 < hi < 100
    # a count at the edge of the interval has a tail below the threshold, one step further does not
    from math import comb
    tail = sum(comb(100, k) * 0.25 ** k * 0.75 ** (100 - k) for k in range(lo))
    assert tail <= ch02._TAIL < tail + comb(100, lo) * 0.25 ** lo * 0.75 ** (100 - lo)


def test_the_right_distribution_fits_only_where_mistakes_differ():
    c = ch02.candidates([2.0, -1.0, 0.0], 0.25)
    assert np.allclose(c["right"], [0.25 / 3 + 0.75, 0.25 / 3, 0.25 / 3])
    assert np.allclose(c["inverted"], [0.75 / 3 + 0.25, 0.75 / 3, 0.75 / 3])
    assert np.allclose(c["never greedy when exploring"], [0.75, 0.125, 0.125])
