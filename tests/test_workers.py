"""course_lib.workers, .portable, .shared_optim: portable functions, shared optimizers, worker processes under
every start method, crash reporting, and no process left behind — by the runner, by a notebook kernel, and by
nbgrader autograding chapter 05 (its A3C cells start real worker processes)."""
from __future__ import annotations

import os
import pickle
import time
import uuid

import nbformat
import psutil
import pytest
import torch
from nbclient import NotebookClient

from course_lib.networks import ActorCritic
from course_lib.portable import portable
from course_lib.reuse import load_notebook, use_from
from course_lib.shared_optim import SharedAdam, SharedRMSprop
from course_lib.workers import WorkerError, run_workers, start_methods
from helpers import NOTEBOOKS

METHODS = [m for m in ("fork", "spawn", "forkserver") if m in start_methods()]
CHAPTER = "05_actor_critic"

NOTEBOOK_CODE = '''
import time
import numpy as np
import torch

SCALE = 3

def helper(x):
    return SCALE * x

def toy_worker(ctx, model, optimizer, n_updates):
    local = model.clone()
    for i in range(n_updates):
        if ctx.should_stop():
            break
        logits, values = local(torch.randn(4, 4))
        loss = logits.pow(2).mean() + values.pow(2).mean()
        local.zero_grad()
        loss.backward()
        for lp, sp in zip(local.parameters(), model.parameters()):
            sp.grad = lp.grad.clone()
        optimizer.step()
        local.load_state_dict(model.state_dict())
        ctx.add_steps(helper(1))
        if i % 20 == 0:
            ctx.report(loss=loss.item(), seed=ctx.seed)

def crashing_worker(ctx):
    if ctx.rank == 1:
        raise ValueError("boom in worker 1")
    while not ctx.should_stop():
        time.sleep(0.01)

def silent_worker(ctx):
    if ctx.rank == 0:
        import os
        os._exit(3)
    while not ctx.should_stop():
        time.sleep(0.01)

def stubborn_worker(ctx):
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ctx.report(started=1)
    while True:
        time.sleep(0.01)
'''


@pytest.fixture(scope="module")
def notebook_functions(tmp_path_factory):
    """Functions another notebook defines (not importable), taken with use_from as a notebook takes them."""
    path = tmp_path_factory.mktemp("nb") / "workers.ipynb"
    cell = nbformat.v4.new_code_cell("%matplotlib inline\n" + NOTEBOOK_CODE)
    cell.metadata["tags"] = ["export"]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    names = ("toy_worker", "crashing_worker", "silent_worker", "stubborn_worker")
    return dict(zip(names, use_from(path, *names)))


def _gone(pids, wait_s: float = 5.0) -> list[int]:
    """The pids still alive (zombies count as gone) after waiting up to wait_s."""
    end = time.time() + wait_s
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.time() > end:
            return alive
        time.sleep(0.1)


def _shared_setup():
    torch.manual_seed(0)
    model = ActorCritic(4, 2)
    model.share_memory()
    return model, SharedAdam(model.parameters(), lr=1e-3)


# ---------------------------------------------------------------------------------- units


def test_portable_sends_source_imports_and_values(notebook_functions):
    fn = portable(notebook_functions["toy_worker"])
    assert set(fn.sources) == {"toy_worker", "helper"}
    assert {"torch"} <= set(fn.imports) and "SCALE" in fn.values
    clone = pickle.loads(pickle.dumps(fn))
    assert clone._function is None and clone._build().__globals__["helper"](2) == 6


def test_portable_refuses_what_cannot_travel():
    def outer():
        y = 1

        def inner():
            return y
        return inner

    with pytest.raises(ValueError, match="closure"):
        portable(outer())
    with pytest.raises(ValueError, match="lambda"):
        portable(lambda ctx: None)

    namespace = {"__name__": "__main__"}
    exec("class Local:\n    pass\ndef uses_class(ctx):\n    return Local()\n", namespace)
    namespace["uses_class"].__course_source__ = "def uses_class(ctx):\n    return Local()\n"
    with pytest.raises(ValueError, match="class 'Local'"):
        portable(namespace["uses_class"])


def test_use_from_reads_the_chapter_notebooks():
    n_step_returns, _ = use_from(NOTEBOOKS / CHAPTER / "05a_a2c.ipynb", "n_step_returns", "actor_critic_loss")
    R = n_step_returns(torch.ones(2, 1), torch.tensor([[False], [True]]), torch.zeros(2, 1, dtype=torch.bool),
                       torch.full((2, 1), 10.0), 0.5)
    assert R[:, 0].tolist() == [1.5, 1.0]
    with pytest.raises(LookupError, match="05a_a2c.ipynb defines no 'no_such_function'"):
        use_from(NOTEBOOKS / CHAPTER / "05a_a2c.ipynb", "no_such_function")


def _loss_of_fixed_batch(ctx, loss_fn):
    """A worker: the loss of a fixed batch, reported to the main process."""
    g = torch.Generator().manual_seed(3)
    logits, values, returns = torch.randn(6, 2, generator=g), torch.randn(6, generator=g), torch.randn(6, generator=g)
    actions = torch.randint(0, 2, (6,), generator=g)
    out = loss_fn(logits, actions, values, returns)
    ctx.report(loss=float(out[0] if isinstance(out, tuple) else out))


@pytest.mark.parametrize("method", [m for m in ("fork", "spawn") if m in start_methods()])
def test_a_reused_function_runs_in_worker_processes(method):
    """05a's actor_critic_loss, taken with use_from, sent to workers by portable (its source and its helper's):
    the workers compute what the main process computes."""
    loss_fn = use_from(NOTEBOOKS / CHAPTER / "05a_a2c.ipynb", "actor_critic_loss")
    sent = portable(loss_fn)
    assert set(sent.sources) == {"actor_critic_loss", "categorical_entropy"}
    run = run_workers(_loss_of_fixed_batch, 2, args=(sent,), start_method=method, max_seconds=120)
    expected = []
    _loss_of_fixed_batch(type("Ctx", (), {"report": lambda self, loss: expected.append(loss)})(), loss_fn)
    assert run.stopped_by == "finished" and [m["loss"] for _, _, m in run.reports] == expected * 2
    assert not _gone(run.pids)


@pytest.mark.parametrize("cls, ref, kw", [(SharedAdam, torch.optim.Adam, {}),
                                          (SharedRMSprop, torch.optim.RMSprop, {"alpha": 0.99, "eps": 1e-5})])
def test_shared_optimizers_match_torch_and_live_in_shared_memory(cls, ref, kw):
    torch.manual_seed(1)
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    a.share_memory()
    opt_a, opt_b = cls(a.parameters(), lr=1e-2, **kw), ref(b.parameters(), lr=1e-2, **kw)
    assert all(v.is_shared() for st in opt_a.state.values() for v in st.values() if torch.is_tensor(v))
    for _ in range(5):
        x = torch.randn(8, 3)
        for m, o in ((a, opt_a), (b, opt_b)):
            o.zero_grad()
            m(x).pow(2).sum().backward()
            o.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-6)
        assert pa.is_shared()


# ---------------------------------------------------------------------------------- processes


@pytest.mark.parametrize("method", METHODS)
def test_workers_update_the_shared_model(method, notebook_functions):
    model, opt = _shared_setup()
    before = [p.detach().clone() for p in model.parameters()]
    run = run_workers(portable(notebook_functions["toy_worker"]), 2, args=(model, opt, 60), start_method=method,
                      max_seconds=180, seed=7)
    assert run.stopped_by == "finished" and run.exit_codes == [0, 0], run
    assert run.steps == 2 * 60 * 3  # helper() tripled each worker's steps
    assert {m["seed"] for _, _, m in run.reports} == {7, 1007}
    assert any(not torch.equal(p, q) for p, q in zip(model.parameters(), before)), "the shared model did not move"
    assert 100 <= float(opt.state[model.policy_head.weight]["step"]) <= 120  # one shared count (Hogwild: rare lost increments)
    assert not _gone(run.pids)


@pytest.mark.parametrize("method", METHODS)
def test_a_crash_is_reported_with_its_traceback(method, notebook_functions):
    start = time.time()
    with pytest.raises(WorkerError, match="boom in worker 1") as err:
        run_workers(portable(notebook_functions["crashing_worker"]), 2, start_method=method, max_seconds=120)
    assert err.value.rank == 1 and "Traceback" in str(err.value)
    assert time.time() - start < 60
    assert not _gone(err.value.result.pids)


@pytest.mark.parametrize("method", METHODS)
def test_a_silent_death_is_reported(method, notebook_functions):
    with pytest.raises(WorkerError, match="exit code 3") as err:
        run_workers(portable(notebook_functions["silent_worker"]), 2, start_method=method, max_seconds=120)
    assert not _gone(err.value.result.pids)


def test_a_stuck_worker_is_killed(notebook_functions):
    started = []

    def monitor(run):  # the clock of this test starts when both workers run
        started.extend(m for _, _, m in run.new_reports)
        return False

    run = run_workers(portable(notebook_functions["stubborn_worker"]), 2, max_seconds=3, join_timeout_s=1,
                      monitor=monitor)
    assert run.stopped_by == "max_seconds"
    assert not _gone(run.pids, wait_s=1.0)
    assert all(code is not None and code != 0 for code in run.exit_codes), run.exit_codes


def test_an_interrupt_stops_the_workers(notebook_functions):
    model, opt = _shared_setup()
    seen = {}

    def monitor(run):
        seen["pids"] = list(run.pids)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_workers(portable(notebook_functions["toy_worker"]), 2, args=(model, opt, 10**9), monitor=monitor,
                    max_seconds=60)
    assert seen["pids"] and not _gone(seen["pids"])


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_the_chapter_a3c_worker_learns_under_every_start_method(method, monkeypatch):
    """The real worker of notebook 5b (with 5a's pieces), sent as source code."""
    monkeypatch.chdir(NOTEBOOKS / CHAPTER)                 # as in Jupyter: 5b's use_from reads 05a from its folder
    # 5b as a notebook has it: its worker_update, its a3c_worker, and 5a's pieces (its use_from line)
    ns = load_notebook(NOTEBOOKS / CHAPTER / "05b_a3c.ipynb", cells_defining=("a3c_worker",))
    model, opt = _shared_setup()
    config = dict(env_id="CartPole-v1", n_steps=5, gamma=0.99, value_coef=0.5, entropy_coef=0.01, max_grad_norm=40.0)
    run = run_workers(portable(ns["a3c_worker"]), 2, args=(model, opt, config), start_method=method,
                      max_steps=3_000, max_seconds=240)
    assert run.stopped_by == "max_steps" and run.steps >= 3_000, run.stopped_by
    _, returns = run.metric("episode_return")
    assert len(returns) > 10 and all(r >= 1 for r in returns)
    assert not _gone(run.pids)


@pytest.mark.slow
def test_spawn_and_fork_from_a_notebook_kernel(tmp_path):
    """Functions defined in notebook cells (the case spawn cannot import) run under every start method."""
    cells = [NOTEBOOK_CODE + "\nfrom course_lib.networks import ActorCritic\nfrom course_lib.portable import portable\n"
             "from course_lib.shared_optim import SharedAdam\nfrom course_lib.workers import run_workers, start_methods\n",
             "pids = []\n"
             "for method in start_methods():\n"
             "    model = ActorCritic(4, 2); model.share_memory()\n"
             "    run = run_workers(portable(toy_worker), 2, args=(model, SharedAdam(model.parameters()), 20),\n"
             "                      start_method=method, max_seconds=180)\n"
             "    assert run.exit_codes == [0, 0] and run.steps == 120, (method, run)\n"
             "    pids += run.pids\n"
             "    print(method, 'ok')\n"
             "import multiprocessing\n"
             "print('alive', [p.pid for p in multiprocessing.active_children() if p.pid in pids])\n"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    for method in METHODS:
        assert f"{method} ok" in out, out
    assert "alive []" in out, out


def _tagged(tag: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid != os.getpid() and proc.environ().get("COURSE_PROCESS_TAG") == tag:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


@pytest.mark.slow
def test_autograding_chapter_05_leaves_no_process_behind(tmp_path, monkeypatch):
    """nbgrader runs 5b's A3C cells (real worker processes): after autograde, no process that
    inherited this test's tag (nbgrader, kernels, workers, helpers) may be left."""
    from autograder import course
    from helpers import make_course

    tag = uuid.uuid4().hex
    monkeypatch.setenv("COURSE_PROCESS_TAG", tag)
    root = make_course(tmp_path, CHAPTER)
    course.release(root, [CHAPTER])
    sub = root / "submitted" / "solution" / CHAPTER
    sub.mkdir(parents=True)
    for nb in (root / "notebooks" / CHAPTER).glob("*.ipynb"):
        (sub / nb.name).write_bytes(nb.read_bytes())
    outcomes = {o.student: o for o in course.autograde(root / "submitted", root, [CHAPTER])}
    assert outcomes["solution"].total == outcomes["solution"].max_total == 100, outcomes["solution"]
    deadline = time.time() + 10
    while _tagged(tag) and time.time() < deadline:
        time.sleep(0.2)
    left = [(p.pid, " ".join(p.cmdline())[:120]) for p in _tagged(tag)]
    assert not left, f"processes left behind by autograding: {left}"
