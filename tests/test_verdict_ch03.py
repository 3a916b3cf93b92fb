"""Chapter 03's checks where exercises build on one another: dqn_update calls the student's
huber_loss, which cannot be replaced by a reference piece inside a gradient step (a piece crosses as
data, without the graph), so dqn_update is judged apart from a wrong huber_loss."""
from __future__ import annotations

import pytest

from autograder.verdict import converted_chapters, extract
from autograder.verdict.core import Chapter

pytestmark = pytest.mark.skipif("03_dqn" not in converted_chapters(), reason="chapter 03 not converted")


@pytest.fixture(scope="module")
def ch():
    return Chapter("03_dqn")


def _student(ch, code):
    ns = extract.namespace(ch.text)
    exec(code, ns)
    return ch.student(ns)


def test_a_huber_loss_without_gradient_costs_only_huber_loss(ch):
    code = "def huber_loss(errors, delta=1.0):\n    return (0.5 * errors ** 2).detach()\n"
    assert not ch.grade("huber_loss", _student(ch, code)).passed
    assert ch.grade("dqn_update", _student(ch, code)).passed


def test_an_unwritten_huber_loss_does_not_let_an_unwritten_dqn_update_pass(ch):
    code = ("def huber_loss(errors, delta=1.0):\n    raise NotImplementedError()\n"
            "def dqn_update(online_net, optimizer, batch, targets, weights=None, max_grad_norm=10.0):\n"
            "    raise NotImplementedError()\n")
    verdict = ch.grade("dqn_update", _student(ch, code))
    assert not verdict.passed and "NotImplementedError" in verdict.message


def test_a_wrong_dqn_update_still_fails_next_to_a_wrong_huber_loss(ch):
    code = ("def huber_loss(errors, delta=1.0):\n    return 0.5 * errors ** 2\n"
            "_right = dqn_update\n"
            "def dqn_update(online_net, optimizer, batch, targets, weights=None, max_grad_norm=10.0):\n"
            "    q = online_net(batch.obs).gather(1, batch.actions.long().unsqueeze(1)).squeeze(1)\n"
            "    td = targets - q\n"
            "    loss = huber_loss(td).sum()\n"
            "    optimizer.zero_grad(); loss.backward(); optimizer.step()\n"
            "    return float(loss.item()), td.detach()\n")
    verdict = ch.grade("dqn_update", _student(ch, code))
    assert not verdict.passed and "huber_loss(td_errors)" in verdict.message


def test_clearing_the_networks_gradients_instead_of_the_optimizers_is_right(ch):
    """``online_net.zero_grad()`` clears the same gradients as ``optimizer.zero_grad()``: both are
    right; leaving the previous update's gradients in place is not."""
    solution = extract.source("03_dqn")
    assert "    optimizer.zero_grad()\n" in solution
    by_net = solution.replace("    optimizer.zero_grad()\n", "    online_net.zero_grad()\n")
    assert ch.grade("dqn_update", ch.student(extract.namespace(by_net))).passed
    none = solution.replace("    optimizer.zero_grad()\n", "")
    verdict = ch.grade("dqn_update", ch.student(extract.namespace(none)))
    assert not verdict.passed and "zero_grad" in verdict.message


# ---------------------------------------------------------------- dqn_step


def _dqn_step_with(old: str, new: str) -> str:
    solution = extract.source("03_dqn")
    assert solution.count(old) == 1, old
    return solution.replace(old, new)


def test_a_wrong_linear_epsilon_costs_only_linear_epsilon(ch):
    """dqn_step calls the student's linear_epsilon; its hidden checks put the reference's in its place."""
    code = "def linear_epsilon(step, start, end, decay_steps):\n    return float(end + (start - end) * min(1.0, step / decay_steps))\n"
    assert not ch.grade("linear_epsilon", _student(ch, code)).passed
    assert ch.grade("dqn_step", _student(ch, code)).passed


def test_dqn_step_variants_that_keep_the_contract_pass(ch):
    """Flags stored as 1.0 / 0.0, keyword arguments to add, a numpy integer action, the buffer's size
    checked as well as learning_starts: all keep what the step promises."""
    text = _dqn_step_with("buffer.add(obs, action, reward, next_obs, terminated, truncated)",
                          "buffer.add(obs=obs, action=np.int64(action), reward=reward, next_obs=next_obs, "
                          "terminated=float(terminated), truncated=float(truncated))")
    text = text.replace('if step >= cfg["learning_starts"] and',
                        'if len(buffer) >= cfg["batch_size"] and step >= cfg["learning_starts"] and')
    assert ch.grade("dqn_step", ch.student(extract.namespace(text))).passed


def test_a_random_action_not_drawn_with_rng_fails_and_says_so(ch):
    text = _dqn_step_with("action = int(rng.integers(env.action_space.n))", "action = int(env.action_space.sample())")
    verdict = ch.grade("dqn_step", ch.student(extract.namespace(text)))
    assert not verdict.passed and "rng.integers(n_actions)" in verdict.message


def test_an_unwritten_dqn_step_fails(ch):
    code = "def dqn_step(env, obs, step, q_net, buffer, learn, rng, cfg):\n    raise NotImplementedError()\n"
    verdict = ch.grade("dqn_step", _student(ch, code))
    assert not verdict.passed and "NotImplementedError" in verdict.message
