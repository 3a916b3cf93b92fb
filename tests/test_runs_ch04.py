"""Chapter 4's training functions write run folders: train_vpg (04a) and train_vpg_gae (04b), each with a
tiny budget in this process, a run_dir, and the folder read back with course_lib.runs.read_run. Also: their
typed configs (VPGConfig, VPGGAEConfig) take changes by keyword and reject a misspelt setting."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks" / "04_policy_gradient"
# what the diagnostics panel shows: the metrics both functions log at every update
PANEL = {"episode_return", "eval_return", "pg_loss", "v_loss", "entropy", "kl", "grad_norm", "explained_variance"}


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.setenv("COURSE_QUIET_LOGGER", "1")   # no progress bars


@pytest.fixture(scope="module")
def vpg():
    from autograder.stability import load_training
    return load_training(NOTEBOOKS / "04a_reinforce.ipynb", extra=("train_vpg",))


@pytest.fixture(scope="module")
def vpg_gae():
    from autograder.stability import load_training
    ns = load_training(NOTEBOOKS / "04b_gae_gaussian.ipynb", extra=("train_vpg_gae",))
    ns["DEVICE"] = ns["device"]()      # set by 04b's import cell, whose other lines a loader does not run
    return ns


def check_folder(path, config, seed, history_evals):
    from course_lib.runs import read_run
    run = read_run(path)
    assert run.config == {**dataclasses.asdict(config), "seed": seed}
    assert run.status["status"] == "finished"
    assert PANEL <= set(run.metrics), sorted(run.metrics)
    steps, evals = run.curve("eval_return")
    assert list(evals) == pytest.approx(history_evals)            # the evaluations the function returned
    assert (path / "model.pt").exists()
    return run


def test_train_vpg_writes_a_readable_run_folder(vpg, tmp_path):
    config = vpg["VPGConfig"](batch_size=200, total_steps=400, n_envs=2, eval_episodes=1, hidden=16)
    policy, _, history = vpg["train_vpg"](config, seed=3, run_dir=tmp_path / "vpg" / "seed3")
    run = check_folder(tmp_path / "vpg" / "seed3", config, 3, history["eval"])
    assert "kept_return" in run.metrics
    assert run.config["env_id"] == "CartPole-v1" and run.config["lr_pi"] == 3e-3
    saved = torch.load(tmp_path / "vpg" / "seed3" / "model.pt")
    assert all(torch.equal(saved[k], v) for k, v in policy.state_dict().items())
    assert (tmp_path / "vpg" / "seed3" / "policy.pt2").exists()      # ./course watch can play it
    # writing the folder changes nothing in the training
    _, _, again = vpg["train_vpg"](config, seed=3)
    assert again["eval"] == history["eval"] and again["loss"] == history["loss"]


def test_train_vpg_writes_through_a_given_logger(vpg, tmp_path):
    from course_lib.logger import TrainingLogger
    from course_lib.runs import read_run
    log = TrainingLogger(400, live_plot=False)
    _, _, history = vpg["train_vpg"](seed=0, total_steps=400, batch_size=200, n_envs=2, eval_episodes=1, log=log,
                                     run_dir=tmp_path / "run")
    assert read_run(tmp_path / "run").status["status"] == "running"   # the caller closes its logger
    log.close()
    check_folder(tmp_path / "run", vpg["VPGConfig"](total_steps=400, batch_size=200, n_envs=2, eval_episodes=1), 0,
                 history["eval"])


def test_train_vpg_gae_writes_a_readable_run_folder(vpg_gae, tmp_path):
    config = vpg_gae["VPGGAEConfig"](env_id="CartPole-v1", total_steps=200, n_envs=2, steps_per_env=50, eval_every=1,
                                     eval_episodes=1, hidden=16)
    policy, _, history = vpg_gae["train_vpg_gae"](config, seed=1, run_dir=tmp_path / "gae")
    check_folder(tmp_path / "gae", config, 1, history["eval"])
    assert len(history["eval"]) == 2 and (tmp_path / "gae" / "policy.pt2").exists()   # discrete: watchable
    # a Gaussian policy: its state_dict (mean network and log_std) in model.pt
    config = vpg_gae["VPGGAEConfig"](total_steps=200, n_envs=1, steps_per_env=200, eval_episodes=1, hidden=16)
    policy, _, history = vpg_gae["train_vpg_gae"](config, seed=0, run_dir=tmp_path / "pendulum")
    run = check_folder(tmp_path / "pendulum", config, 0, history["eval"])
    assert run.config["env_id"] == "Pendulum-v1" and run.config["lam"] == 0.95
    assert set(torch.load(tmp_path / "pendulum" / "model.pt")) == set(policy.state_dict())


@pytest.mark.parametrize("name, fields", [("VPGConfig", "lr_pi"), ("VPGGAEConfig", "lam")])
def test_configs_take_changes_and_reject_typos(vpg, vpg_gae, name, fields):
    ns = vpg if name == "VPGConfig" else vpg_gae
    train = ns["train_vpg" if name == "VPGConfig" else "train_vpg_gae"]
    config = ns[name]()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.gamma = 0.5
    with pytest.raises(TypeError, match=fields):           # the message lists the valid settings
        train(seed=0, lr=1e-3)


def test_train_vpg_gae_keeps_the_policy_of_its_best_evaluation(vpg_gae):
    """history["kept_eval"]: at each evaluation, the copy of the best evaluation so far (replaced only by a strictly
    better one) played from the online evaluation's start states; history["kept_policy"] is that copy."""
    from course_lib.envs import make_env
    from course_lib.evaluation import evaluate
    config = vpg_gae["VPGGAEConfig"](env_id="CartPole-v1", total_steps=1200, n_envs=2, steps_per_env=50, eval_every=1,
                                     eval_episodes=2, hidden=16)
    policy, _, h = vpg_gae["train_vpg_gae"](config, seed=0)
    online, kept = h["eval"], h["kept_eval"]
    assert len(online) == len(kept) == 12
    new_best = [score > max(online[:i], default=-float("inf")) for i, score in enumerate(online)]
    assert all(k == score for k, score, new in zip(kept, online, new_best) if new)   # a new best is the kept copy
    assert not new_best[-1], "this seed must end below its best for the test to mean something"
    # the last evaluation played the kept copy (the first evaluation of the best score) from its own start states
    replay = evaluate(make_env("CartPole-v1"), lambda x: h["kept_policy"].greedy(x[None])[0], n_episodes=2,
                      seed=10_000 + h["eval_steps"][-1]).mean
    assert replay == kept[-1] != online[-1]
    assert any(not torch.equal(a, b) for a, b in zip(h["kept_policy"].parameters(), policy.parameters()))


def test_train_vpg_gae_anneals_both_learning_rates_linearly_to_zero(vpg_gae, monkeypatch):
    """anneal_lr=True: before each batch both etas are eta * (1 - steps done / total_steps); by default they stay."""
    steps_lr = []

    class RecordingAdam(torch.optim.Adam):
        def step(self, *args, **kwargs):
            steps_lr.append(self.param_groups[0]["lr"])
            return super().step(*args, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    config = vpg_gae["VPGGAEConfig"](total_steps=400, n_envs=1, steps_per_env=100, v_epochs=1, eval_every=4,
                                     eval_episodes=1, hidden=8)
    vpg_gae["train_vpg_gae"](config, seed=0, anneal_lr=True)
    # per update: one policy step, then one critic step (one minibatch of 100 <= 500, one epoch)
    assert steps_lr[0::2] == pytest.approx([5e-3 * f for f in (1.0, 0.75, 0.5, 0.25)])
    assert steps_lr[1::2] == pytest.approx([3e-3 * f for f in (1.0, 0.75, 0.5, 0.25)])
    steps_lr.clear()
    vpg_gae["train_vpg_gae"](config, seed=0)
    assert steps_lr == pytest.approx([5e-3, 3e-3] * 4)


def test_train_vpg_gae_chooses_its_kept_copy_on_more_episodes(vpg_gae):
    """keep_episodes > 0: the evaluations (and the training) are those of keep_episodes=0, only the choice of the kept
    copy changes: a policy that beats the kept copy on an evaluation's start states replaces it only if it also does
    better on keep_episodes fixed start states (seeds VALIDATION_SEED + i)."""
    from course_lib.envs import make_env
    from course_lib.evaluation import evaluate
    config = vpg_gae["VPGGAEConfig"](total_steps=2000, n_envs=2, steps_per_env=100, eval_every=1, eval_episodes=2,
                                     hidden=16, keep_episodes=4)
    policy, _, h = vpg_gae["train_vpg_gae"](config, seed=0)
    _, _, plain = vpg_gae["train_vpg_gae"](config, seed=0, keep_episodes=0)
    assert h["eval"] == plain["eval"]                       # the measurement is untouched
    assert h["kept_eval"] != plain["kept_eval"]             # the choice is not
    env = make_env("Pendulum-v1")
    play = lambda pi, n, seed: evaluate(env, lambda x: pi.greedy(x[None])[0], n_episodes=n, seed=seed).mean
    assert play(h["kept_policy"], 2, 10_000 + h["eval_steps"][-1]) == h["kept_eval"][-1]   # same start states
    # the last evaluation: the policy beat the kept copy on those start states (a candidate) but not on the fixed ones
    assert h["eval"][-1] > h["kept_eval"][-1], "this seed must end with a rejected candidate for the test to mean something"
    validation = vpg_gae["VALIDATION_SEED"]
    assert play(policy, 4, validation) <= play(h["kept_policy"], 4, validation)
