"""The verdict machinery in-process (fast): extracted references are fresh, the mistake registry
works (each known mistake loses points on exactly its exercise, and its message names it and no
other), the reference passes its own checks, answers are data only."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from autograder.verdict import converted_chapters, extract, wire
from autograder.verdict.core import Chapter, LocalStudent, StudentRaised, grade_exercise

CHAPTERS = converted_chapters()
_CHAPTERS: dict[str, Chapter] = {}


def chapter(name: str) -> Chapter:
    if name not in _CHAPTERS:
        _CHAPTERS[name] = Chapter(name)
    return _CHAPTERS[name]


def test_chapter_01_is_converted():
    assert "01_intro" in CHAPTERS


@pytest.mark.parametrize("name", CHAPTERS)
def test_extracted_reference_is_fresh(name):
    path = extract.generated_path(name)
    assert path.read_text() == extract.render(name), (
        f"{path.name} is stale: run `python -m autograder.verdict.extract {name}` after editing the notebook")


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_solution_cell_is_an_exercise_with_mistakes(name):
    ch = chapter(name)
    cells = [gid for gid, _ in extract.solution_cells(name)]
    assert sorted(cells) == sorted(ch.exercises), "each solution cell needs an Exercise (and vice versa)"
    without = [e for e in ch.exercises if not any(m.exercise == e for m in ch.mistakes)]
    assert not without, f"exercises without a known mistake in the registry: {without}"
    keys = [(m.exercise, m.description) for m in ch.mistakes]
    assert len(set(keys)) == len(keys), "two mistakes of one exercise share a description"


@pytest.mark.parametrize("name", CHAPTERS)
def test_reference_passes_its_own_checks(name):
    ch = chapter(name)
    for exercise in ch.exercises:
        student = ch.student(extract.namespace(ch.text))
        verdict = ch.grade(exercise, student)
        assert verdict.passed, verdict.message


def _mistakes():
    return [(name, i) for name in CHAPTERS for i in range(len(chapter(name).mistakes))]


@pytest.mark.parametrize("name,index", _mistakes(),
                         ids=lambda v: v if isinstance(v, str) else str(v))
def test_mistake_is_named_and_costs_only_its_exercise(name, index):
    ch = chapter(name)
    mistake = ch.mistakes[index]
    ns = extract.namespace(extract.with_mistake(ch.text, mistake))
    lost = {}
    for exercise in ch.exercises:
        verdict = ch.grade(exercise, ch.student(ns))
        if not verdict.passed:
            lost[exercise] = verdict
    assert list(lost) == [mistake.exercise], f"{mistake.description}: lost points on {list(lost)}"
    verdict = lost[mistake.exercise]
    assert verdict.mistakes == [mistake.description], verdict.message
    assert mistake.description in verdict.message


def test_one_mistake_costs_one_exercise_even_when_others_build_on_it():
    """The issue's case: a backup that writes V[terminal] = 0 into its argument loses its own points;
    value iteration, which uses the backup, is graded with the reference backup and keeps its."""
    ch = chapter("01_intro")
    mistake = next(m for m in ch.mistakes if "V[terminal] = 0" in m.description)
    ns = extract.namespace(extract.with_mistake(ch.text, mistake))
    assert not ch.grade("bellman_backup", ch.student(ns)).passed
    assert ch.grade("value_iteration", ch.student(ns)).passed
    assert ch.grade("policy_evaluation", ch.student(ns)).passed


def test_an_unknown_wrong_answer_is_not_given_a_mistake_name():
    ch = chapter("01_intro")
    ns = extract.namespace(ch.text)
    exec("def discounted_return(rewards, gamma):\n    return 42.0\n", ns)
    verdict = ch.grade("discounted_return", ch.student(ns))
    assert not verdict.passed and verdict.mistakes == [] and "known mistake" not in verdict.message
    assert "expected" in verdict.message and "42" in verdict.message


def test_a_raising_answer_says_what_it_raised():
    ch = chapter("01_intro")
    ns = extract.namespace(ch.text)
    exec("def bellman_backup(P, R, terminal, V, gamma):\n    raise NotImplementedError()\n", ns)
    verdict = ch.grade("bellman_backup", ch.student(ns))
    assert not verdict.passed and "raised NotImplementedError" in verdict.message


def test_answers_are_data_only():
    obj = {"t": "nd", "dtype": "|O", "shape": [1], "b64": base64.b64encode(b"x" * 8).decode()}
    with pytest.raises(wire.WireError):
        wire.decode(obj)
    with pytest.raises(wire.WireError):
        wire.decode({"t": "pickle", "v": "gASV"})
    bad_shape = {"t": "nd", "dtype": "<f8", "shape": [3], "b64": base64.b64encode(b"x" * 8).decode()}
    with pytest.raises(wire.WireError):
        wire.decode(bad_shape)
    a = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(wire.decode(wire.encode(a)), a)


def test_local_student_sees_the_same_encoding_as_a_kernel():
    ns = {"np": np}
    exec("def f(x):\n    x[0] = 99.0\n    return np.float32(x.sum()), [1, (2, 'a')], {'k': None}\n", ns)
    student = LocalStudent(ns)
    r = student.call("f", np.array([1.0, 2.0]))
    assert isinstance(r.value[0], np.float32) and r.value[1] == [1, (2, "a")] and r.value[2] == {"k": None}
    assert r.args_after[0].tolist() == [99.0, 2.0]
    assert json.loads(json.dumps(student.request({"op": "call", "fn": "missing", "args": [], "kwargs": [],
                                                  "deps": []})))["raised"]["ename"] == "NameError"


_TORCH_STUDENT = '''
def weighted_sum(x, w):
    return (x * w).sum()
def target(net, batch, gamma):
    return batch.rewards + gamma * net(batch.next_obs).max(dim=1).values
def update(net, opt, x):
    opt.zero_grad(); loss = net(x).pow(2).mean(); loss.backward(); opt.step(); return loss.item()
def pick(q, eps, rng):
    return int(rng.integers(len(q))) if rng.random() < eps else int(np.argmax(q))
def episode(env, policy, learn, seed=None):
    obs, _ = env.reset(seed=seed); total = 0.0
    while True:
        a = policy(obs)
        nxt, r, term, trunc, _ = env.step(a)
        learn(obs, a, r, nxt, term)
        total += r; obs = nxt
        if term or trunc:
            return total, int(env.action_space.n)
def noise():
    return torch.rand(3)
def step_with(loss, net, opt):
    opt.zero_grad(); loss.backward(); opt.step()
def alias(local, shared):
    local.load_state_dict(shared.state_dict())
    return None
class Buffer:
    def __init__(self, n):
        self.items = []
    def add(self, x):
        self.items.append(x)
    def __len__(self):
        return len(self.items)
'''


def test_torch_values_networks_optimizers_and_callbacks_cross_as_data():
    import gymnasium as gym
    import torch
    ns = {"np": np, "torch": torch}
    exec(_TORCH_STUDENT, ns)
    s = LocalStudent(ns)
    r = s.call("weighted_sum", torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0], requires_grad=True), backward=True)
    assert r.value.item() == 11.0 and r.value.requires_grad  # a result that carries gradient says so
    assert r.args_after[1].grad.tolist() == [1.0, 2.0] and r.args_after[0].grad is None
    r = s.call("weighted_sum", torch.tensor([[1.0, 2.0]]), torch.tensor([3.0, 4.0], requires_grad=True), backward="sum")
    assert r.args_after[1].grad.tolist() == [1.0, 2.0]
    batch = wire.Record("Batch", {"rewards": torch.ones(2), "next_obs": torch.zeros(2, 3)})
    r = s.call("target", wire.Net((3, 8, 2), seed=1), batch, 0.9)
    assert r.value.shape == (2,) and r.value.requires_grad
    before = s.call("update", wire.Net((3, 8, 2), seed=1), wire.Optim("SGD", 0, 0.0), torch.ones(4, 3))
    after = s.call("update", wire.Net((3, 8, 2), seed=1), wire.Optim("SGD", 0, 0.1), torch.ones(4, 3))
    assert isinstance(after.args_after[0], wire.Module) and after.args_after[0]["grads"]["0.weight"].shape == (8, 3)
    moved = after.args_after[0]["state"]["2.weight"] - before.args_after[0]["state"]["2.weight"]
    assert np.allclose(moved, -0.1 * after.args_after[0]["grads"]["2.weight"])
    assert s.call("pick", np.array([0.1, 0.5]), 0.0, wire.Rng(3)).value == 1
    picks = {s.call("pick", np.array([0.1, 0.5]), 1.0, wire.Rng(k)).value for k in range(20)}
    assert picks == {0, 1}

    class Spy:
        def reset(self, seed=None):
            self.t, self.seed = 0, seed
            return 0, {}

        def step(self, a):
            self.t += 1
            return self.t, 1.0, self.t >= 3, False, {}

    spy, learned = Spy(), []
    r = s.call("episode", wire.Proxy(spy, ("reset", "step"), {"action_space": gym.spaces.Discrete(2)}),
               wire.Callback(lambda obs: 1), wire.Callback(lambda *a: learned.append(a)), seed=5)
    assert r.value == (3.0, 2) and spy.seed is None and [a[3] for a in learned] == [1, 2, 3]
    r = s.call("step_with", wire.Loss(1, torch.ones(2, 3), torch.zeros(2, 2)), wire.Net((3, 2), seed=2),
               wire.Optim("SGD", 1, 0.5))
    assert np.allclose(r.args_after[1]["state"]["0.bias"] + 0.5 * r.args_after[1]["grads"]["0.bias"],
                       s.call("step_with", wire.Loss(1, torch.ones(2, 3), torch.zeros(2, 2)), wire.Net((3, 2), seed=2),
                              wire.Optim("SGD", 1, 0.0)).args_after[1]["state"]["0.bias"])
    r = s.call("alias", wire.Net((3, 2), seed=1, unused=True), wire.Net((3, 2), seed=2, shared=True, unused=True))
    local, shared = r.args_after
    assert all(shared["shared"].values()) and not any(local["shared"].values()) and "unused" in shared["grads"]
    assert set(local["ptr"].values()).isdisjoint(shared["ptr"].values())
    assert np.array_equal(local["state"]["0.weight"], shared["state"]["0.weight"])
    stale = {"0.weight": np.full((2, 3), 7.0, np.float32), "0.bias": None}
    r = s.call("alias", wire.Net((3, 2), seed=1, grads=stale), wire.Net((3, 2), seed=2))
    assert np.array_equal(r.args_after[0]["grads"]["0.weight"], stale["0.weight"])  # a network as an update left it
    assert r.args_after[0]["grads"]["0.bias"] is None and r.args_after[1]["grads"]["0.bias"] is None
    assert torch.equal(s.call("noise", seed=0).value, s.call("noise", seed=0).value)
    assert s.script("Buffer", {"n": 3}, [("call", ("add", [1])), ("call", ("add", [2])), ("call", ("__len__", []))]) \
        == [None, None, 2]


def test_a_call_can_be_repeated_on_the_same_arguments():
    """``repeat`` calls the student's function again on the very same objects (a graph kept alive
    across calls, a list that grows): the last result answers."""
    import torch
    ns = {"torch": torch}
    exec("def grow(items):\n    items.append(len(items))\n    return len(items)\n"
         "def hvp_like(loss, net, keep):\n"
         "    grads = torch.autograd.grad(loss, list(net.parameters()), create_graph=True)\n"
         "    flat = torch.cat([g.reshape(-1) for g in grads])\n"
         "    hv = torch.autograd.grad(flat.sum(), list(net.parameters()), retain_graph=keep)\n"
         "    return torch.cat([h.reshape(-1) for h in hv]).detach()\n", ns)
    s = LocalStudent(ns)
    r = s.call("grow", [], repeat=3)
    assert r.value == 3 and r.args_after[0] == [0, 1, 2]
    loss = wire.Loss(1, torch.ones(2, 3), torch.zeros(2, 2))
    once = s.call("hvp_like", loss, wire.Net((3, 4, 2), "tanh", seed=1), True).value
    assert torch.equal(s.call("hvp_like", loss, wire.Net((3, 4, 2), "tanh", seed=1), True, repeat=2).value, once)
    with pytest.raises(StudentRaised, match="second time"):  # the loss's graph was freed by the first call
        s.call("hvp_like", loss, wire.Net((3, 4, 2), "tanh", seed=1), False, repeat=2)


def test_a_notebook_without_graded_cells_is_not_run():
    """A lab notebook (06c) scores nothing: the grader does not start a kernel for it, whatever it holds."""
    import nbformat

    from autograder.verdict.execute import VerdictExecute

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time; time.sleep(600)"),
                                         nbformat.v4.new_markdown_cell("a lab")])
    out, _ = VerdictExecute(timeout=5).preprocess(nb, {"nbgrader": {"assignment": "06_ppo"}})
    assert out.cells[0].outputs == [] and out.cells[0].get("execution_count") is None
