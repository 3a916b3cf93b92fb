"""Chapter 04's collect_episodes checks in-process: other correct ways to collect the batch pass (the
checks judge what the spy environments saw, not the instructor's order of stepping them), and wrong
ones the registry does not know fail with a message that says what went wrong."""
from __future__ import annotations

import pytest

from autograder.verdict import converted_chapters, extract
from autograder.verdict.core import Chapter

pytestmark = pytest.mark.skipif("04_policy_gradient" not in converted_chapters(), reason="chapter 04 not converted")

_CH: list[Chapter] = []


def chapter() -> Chapter:
    if not _CH:
        _CH.append(Chapter("04_policy_gradient"))
    return _CH[0]


def grade(code: str):
    ch = chapter()
    ns = extract.namespace(ch.text)
    exec(code, ns)
    return ch.grade("collect_episodes", ch.student(ns))


# One env after the other, one policy call and one critic call per step, a plain tuple of arrays.
ONE_ENV_AT_A_TIME = '''
def collect_episodes(envs, policy, value, batch_size):
    obs, act, rew, term, trunc, boot = [], [], [], [], [], []
    for env in envs:
        while True:
            o, _ = env.reset()
            done = False
            while not done:
                a = policy(o[None])[0]
                o2, r, te, tr, _ = env.step(a)
                obs.append(o); act.append(a); rew.append(r); term.append(te); trunc.append(tr)
                boot.append(float(value(o2[None])[0]) if tr and not te else 0.0)
                o, done = o2, te or tr
            if len(rew) >= batch_size:
                break
    return (np.array(obs), np.array(act), np.array(rew), np.array(term), np.array(trunc), np.array(boot))
'''

# Round-robin like the reference, but the final observations kept per episode end and valued at once.
FINAL_OBS_ONLY = '''
def collect_episodes(envs, policy, value, batch_size):
    n = len(envs)
    cur = [env.reset()[0] for env in envs]
    per_env = [[] for _ in range(n)]
    playing, total = list(range(n)), 0
    while playing:
        actions = policy(np.stack([cur[i] for i in playing]))
        still = []
        for i, a in zip(playing, actions):
            o2, r, te, tr, _ = envs[i].step(int(a))
            per_env[i].append([cur[i], int(a), r, te, tr, o2 if tr and not te else None])
            total += 1
            if not (te or tr):
                cur[i] = o2
                still.append(i)
            elif total < batch_size:
                cur[i] = envs[i].reset()[0]
                still.append(i)
        playing = still
    steps = [s for p in per_env for s in p]
    cut = [k for k, s in enumerate(steps) if s[5] is not None]
    boot = np.zeros(len(steps), dtype=np.float32)
    if cut:
        boot[cut] = value(np.stack([steps[k][5] for k in cut]))
    return Episodes(np.stack([s[0] for s in steps]), np.array([s[1] for s in steps]),
                    np.array([s[2] for s in steps], dtype=float), np.array([s[3] for s in steps]),
                    np.array([s[4] for s in steps]), boot)
'''


@pytest.mark.parametrize("code", [ONE_ENV_AT_A_TIME, FINAL_OBS_ONLY], ids=["one_env_at_a_time", "final_obs_only"])
def test_other_right_ways_pass(code):
    verdict = grade(code)
    assert verdict.passed, verdict.message


def test_steps_out_of_env_order_are_named():
    # the steps in the order they were played (round by round), not env by env
    code = extract.split(chapter().text)[1]["collect_episodes"].replace(
        "    while playing.any():\n", "    order = []\n    while playing.any():\n").replace(
        "            played[i].append(", "            order.append(i)\n            played[i].append(").replace(
        "[step for steps in played for step in steps]",
        "[played[i].pop(0) for i in order]")
    verdict = grade(code)
    assert not verdict.passed and not verdict.mistakes
    assert "env 0 first, then env 1's" in verdict.message, verdict.message


def test_a_collector_that_never_stops_is_stopped_with_a_message():
    code = extract.split(chapter().text)[1]["collect_episodes"].replace("if total >= batch_size:", "if False:")
    verdict = grade(code)
    assert not verdict.passed
    assert "must stop" in verdict.message or "far more episodes" in verdict.message, verdict.message
