"""Chapter 5's training functions and their typed configs: train_a3c (05b) writes a run folder (tiny budget, real
worker processes, read back with course_lib.runs.read_run, also when a worker fails); train_a2c (05a) writes
as_record(config) + seed, takes its sizes and threshold from env_id (Acrobot-v1), rejects a misspelt setting,
and reaches 05b with its config through use_from."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from course_lib.hyperparams import as_record
from course_lib.networks import ActorCritic
from course_lib.runs import read_run

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks" / "05_actor_critic"
A3C_PANEL = {"episode_return", "eval_return", "kept_return", "run_seconds"}   # logged at every evaluation, or more


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.setenv("COURSE_QUIET_LOGGER", "1")   # no progress bars, no live plots


@pytest.fixture(scope="module")
def a2c():
    from autograder.stability import load_training
    return load_training(NOTEBOOKS / "05a_a2c.ipynb", extra=("train_a2c",))


@pytest.fixture(scope="module")
def a3c():
    from autograder.stability import load_training
    return load_training(NOTEBOOKS / "05b_a3c.ipynb", extra=("train_a3c", "a3c_worker", "worker_update"))


def test_train_a3c_writes_a_readable_run_folder(a3c, tmp_path):
    folder = tmp_path / "05b_a3c" / "a3c" / "seed3"
    # 4,000 steps: about a second, several calls of the monitor (every 0.25 s), which evaluates and logs
    config = a3c["A3CConfig"](total_steps=4_000, max_seconds=60, eval_every=1_000, eval_episodes=1,
                              stop_at_threshold=False)
    kept, log, run = a3c["train_a3c"](config, seed=3, live_plot=False, run_dir=folder)
    assert run.stopped_by == "max_steps" and run.steps >= 4_000
    saved = read_run(folder)
    assert saved.status["status"] == "finished"
    # config.json: every field of the config (the threshold resolved from env_id) and the seed
    assert {k: saved.config[k] for k in (*as_record(config), "seed")} == {**as_record(config), "threshold": 475.0,
                                                                            "seed": 3}
    assert A3C_PANEL <= set(saved.metrics)
    for name in ("eval_return", "kept_return", "episode_return"):
        steps, values = saved.curve(name)
        assert list(values) == pytest.approx([v for _, v in log.history[name]]) and len(values) >= 1
    # the kept snapshot, as returned, is the model in the folder
    model = ActorCritic(4, 2, hidden=(64, 64))
    model.load_state_dict(torch.load(folder / "model.pt"))
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), kept.parameters()))
    assert (folder / "policy.pt2").is_file()


def failing_worker(ctx, shared_model, shared_optimizer, config):
    raise RuntimeError(f"worker {ctx.rank} fails on purpose, n_steps={config['n_steps']}")


def test_train_a3c_marks_its_folder_failed_when_a_worker_fails(a3c, tmp_path, monkeypatch):
    from course_lib.workers import WorkerError
    monkeypatch.setitem(a3c, "a3c_worker", failing_worker)   # the settings still reach it as a plain dict
    with pytest.raises(WorkerError, match="fails on purpose, n_steps=7"):
        a3c["train_a3c"](seed=0, n_steps=7, total_steps=500, max_seconds=30, live_plot=False, run_dir=tmp_path / "r")
    status = read_run(tmp_path / "r").status
    assert status["status"] == "failed" and "fails on purpose" in status["error"]


@pytest.mark.parametrize("name", ["train_a2c", "train_a3c"])
def test_a_misspelt_setting_is_an_error(a2c, a3c, name):
    train = (a2c if name == "train_a2c" else a3c)[name]
    with pytest.raises(TypeError, match="has no setting 'learning_rate'; its settings are: env_id, n_envs|"
                                        "has no setting 'learning_rate'; its settings are: env_id, n_workers"):
        train(learning_rate=1e-3)


def test_train_a2c_on_acrobot_takes_sizes_and_threshold_from_the_env(a2c, tmp_path):
    config = a2c["A2CConfig"](env_id="Acrobot-v1", n_envs=2, n_steps=5, total_steps=200, eval_every=100,
                              eval_episodes=1, stop_at_threshold=False)
    model, log = a2c["train_a2c"](config, seed=1, live_plot=False, run_dir=tmp_path / "acrobot")
    assert model.logits(torch.zeros(1, 6)).shape == (1, 3)          # 6 observations, 3 actions
    assert log.threshold == -100.0 and len(log.history["eval_return"]) == 2
    assert all(-500 <= v <= 0 for _, v in log.history["eval_return"])
    saved = json.loads((tmp_path / "acrobot" / "config.json").read_text())
    assert {k: saved[k] for k in (*as_record(config), "seed")} == {**as_record(config), "threshold": -100.0, "seed": 1}
    # the defaults are CartPole's, unchanged
    assert a2c["A2CConfig"]().env_id == "CartPole-v1" and a2c["A2CConfig"]().threshold is None


def test_05b_takes_train_a2c_and_its_config_with_use_from(monkeypatch):
    from course_lib.reuse import use_from
    monkeypatch.chdir(NOTEBOOKS)
    train_a2c, A2CConfig = use_from("05a_a2c.ipynb", "train_a2c", "A2CConfig")
    assert dataclasses.is_dataclass(A2CConfig) and A2CConfig().updates_per_rollout == 1
    _, log = train_a2c(A2CConfig(n_envs=2, n_steps=5, total_steps=40, eval_every=20, eval_episodes=1),
                       seed=0, live_plot=False, updates_per_rollout=4)
    assert len(log.history["ratio_max"]) == 4                         # 4 updates, each reusing its rollout


@pytest.mark.slow
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_train_a3c_under_a_start_method_that_pickles(a3c, tmp_path, method):
    """Under spawn and forkserver the workers are fresh interpreters: 5b's a3c_worker travels as source code, its
    settings as a plain dict (as_record), never as the notebook's A3CConfig class."""
    from course_lib.workers import start_methods
    if method not in start_methods():
        pytest.skip(f"{method} is not available here")
    _, log, run = a3c["train_a3c"](seed=0, total_steps=600, max_seconds=120, eval_every=300, eval_episodes=1,
                                   stop_at_threshold=False, start_method=method, live_plot=False, run_dir=tmp_path)
    assert run.start_method == method and run.stopped_by == "max_steps" and run.exit_codes == [0, 0]
    assert read_run(tmp_path).status["status"] == "finished"
    assert len(run.metric("episode_return")[1]) > 0           # the workers played (their reports came back)
