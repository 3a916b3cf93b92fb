"""autograder.stability: the arithmetic of "stays solved" and its table, by hand; one tiny real run."""
from __future__ import annotations

import csv
import math

from autograder.stability import format_table, measure, save_evals, summarize


def test_summarize_counts_the_evaluations_after_the_first_crossing():
    evals = [(2000, 20.0), (4000, 480.0), (6000, 500.0), (8000, 300.0), (10000, 475.0), (12000, 91.0)]
    s = summarize(evals, 475.0, solved_at=(4000, 3.5))
    assert s["steps"] == 4000 and s["seconds"] == 3.5
    assert s["later"] == 4                      # 500, 300, 475, 91: two of them >= 475 (475 counts)
    assert s["stayed"] == 0.5
    assert s["final"] == 91.0


def test_summarize_never_solved_and_solved_last():
    never = summarize([(2000, 10.0), (4000, 474.9)], 475.0)
    assert never["steps"] is None and never["seconds"] is None and never["later"] == 0
    assert math.isnan(never["stayed"]) and never["final"] == 474.9
    last = summarize([(2000, 10.0), (4000, 500.0)], 475.0, solved_at=(4000, 1.0))
    assert last["steps"] == 4000 and last["later"] == 0 and math.isnan(last["stayed"])


def test_format_table_rows_and_medians():
    rows = {0: summarize([(2, 500.0), (4, 500.0), (6, 400.0)], 475.0, (2, 10.0)),   # stayed 50%
            1: summarize([(2, 10.0), (4, 480.0), (6, 500.0)], 475.0, (4, 20.0)),    # stayed 100%
            2: summarize([(2, 10.0), (4, 20.0), (6, 30.0)], 475.0)}                 # never solved
    lines = format_table(rows).splitlines()
    assert lines[0].startswith("| seed | steps to 475 | seconds to 475 | stayed solved | final eval |")
    assert lines[2] == "| 0 | 2 | 10.0 | 50% (2 later evals) | 400.0 |"
    assert lines[4] == "| 2 | - | - | - (0 later evals) | 30.0 |"
    # medians over the seeds that have the figure: steps (2, 4) -> 3; seconds 15.0; stayed 75%; final 400
    assert lines[5] == "| median | 3 | 15.0 | 75% | 400.0 |"


def test_save_evals_round_trips_a_label_with_a_comma(tmp_path):
    """The CSV that notebook 3a's section 8 draws: a label such as "lr 2.3e-3 to 1e-4, bursts of 64" must
    come back whole, with its seeds, steps and returns (it used to be written unquoted and split apart)."""
    rows = {0: dict(eval_steps=[2000, 4000], evals=[120, 500]), 3: dict(eval_steps=[2000], evals=[77])}
    path = save_evals(rows, tmp_path / "evals.csv", "lr 2.3e-3 to 1e-4, bursts of 64", note="a note, with a comma")
    save_evals({1: dict(eval_steps=[2000], evals=[9])}, path, "plain")
    with path.open() as f:
        read = list(csv.DictReader(line for line in f if not line.startswith("#")))
    assert [(r["label"], r["seed"], r["step"], r["eval_return"]) for r in read] == [
        ("lr 2.3e-3 to 1e-4, bursts of 64", "0", "2000", "120"), ("lr 2.3e-3 to 1e-4, bursts of 64", "0", "4000", "500"),
        ("lr 2.3e-3 to 1e-4, bursts of 64", "3", "2000", "77"), ("plain", "1", "2000", "9")]
    assert all(None not in r for r in read)          # no field spilled over


def test_measure_runs_the_notebook_training_on_a_tiny_budget():
    printed = []
    rows = measure(seeds=[0], overrides=dict(total_steps=600, learning_starts=200, eval_every=300,
                                             gradient_steps=2, eval_episodes=2), echo=printed.append)
    assert list(rows) == [0] and len(rows[0]["evals"]) == 2 and len(printed) == 1
    assert rows[0]["final"] == rows[0]["evals"][-1] or abs(rows[0]["final"] - rows[0]["evals"][-1]) <= 0.5
    assert set(rows[0]["kept"]) == set(summarize([], 475.0)) and "kept network stayed" in printed[0]


def test_train_dqn_judges_the_kept_network_on_the_same_states():
    """At each evaluation the kept network (the latest copy of the best evaluation so far) is played too:
    where the online network ties or beats the best so far, it is the kept one, and both scores agree."""
    from autograder.stability import load_training
    ns = load_training()
    # a tiny run whose last evaluation falls below its best (bursts of 2 updates every 64 steps, floor 1e-5)
    run = ns["train_dqn"](seed=0, total_steps=900, learning_starts=200, eval_every=150, gradient_steps=2, eval_episodes=2,
                          train_every=64, lr_end=1e-5)
    online, kept = [v for _, v in run["evals"]], [v for _, v in run["kept_evals"]]
    assert len(online) == len(kept) == 6 and [s for s, _ in run["kept_evals"]] == [s for s, _ in run["evals"]]
    for i, v in enumerate(online):
        if v >= max(online[:i + 1]):
            assert kept[i] == v
    assert run["best"][1] == max(online) and run["best"][0] == max(s for s, v in run["evals"] if v == max(online))
    # the last evaluation (step 900) is below the best so far: there the kept network was played on its own,
    # from the same start states as the online one (seed eval_seed + 900), and the score is its own
    assert online[-1] < max(online)
    replay = ns["evaluate_greedy"](run["best_net"], 2, seed=ns["DQNConfig"]().eval_seed + 900).mean
    assert kept[-1] == replay and kept[-1] != online[-1]


def test_train_dqn_takes_a_typed_config_and_logs_the_gradient_norm_before_clipping(monkeypatch):
    """03a's DQNConfig: keywords are changes of the config (the same run either way), a misspelt one is a TypeError;
    env_id switches the task; grad_norm is the norm clip_grad_norm_ measured (before clipping), mean per burst."""
    import numpy as np
    import pytest
    import torch

    from autograder.stability import load_training
    from course_lib.logger import TrainingLogger
    ns = load_training()
    train_dqn, DQNConfig = ns["train_dqn"], ns["DQNConfig"]
    with pytest.raises(TypeError, match="learning_rate"):
        train_dqn(learning_rate=1e-3)
    small = dict(total_steps=300, learning_starts=100, eval_every=300, gradient_steps=2, eval_episodes=1)
    by_config, by_keywords = train_dqn(DQNConfig(**small), seed=0), train_dqn(seed=0, **small)
    assert by_config["evals"] == by_keywords["evals"]
    assert all(torch.equal(a, b) for a, b in zip(by_config["net"].parameters(), by_keywords["net"].parameters()))

    measured = []                                  # what clip_grad_norm_ returns: the total norm before clipping
    clip = torch.nn.utils.clip_grad_norm_
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda *a, **k: measured.append(float(clip(*a, **k))) or measured[-1])
    log = TrainingLogger(300, live_plot=False)
    train_dqn(seed=0, logger=log, max_grad_norm=0.05, train_every=50, **{**small, "gradient_steps": 4})
    logged = np.array([v for _, v in log.history["grad_norm"]])
    assert len(measured) == 4 * len(logged) == 4 * 5          # bursts at steps 100, 150, ..., 300
    assert np.allclose(logged, np.array(measured).reshape(-1, 4).mean(axis=1), rtol=1e-5)
    assert (logged > 0.05).all()                   # above the clipping threshold: measured before clipping

    acrobot = train_dqn(DQNConfig(env_id="Acrobot-v1", threshold=-100.0, **small), seed=0)
    assert acrobot["net"](torch.zeros(1, 6)).shape == (1, 3) and -500 <= acrobot["evals"][-1][1] <= 0


def test_train_a2c_keeps_the_first_of_equal_best_evaluations():
    """05a's kept network: only a strictly better evaluation replaces it. The evaluations are scripted (in call
    order): the online network scores 10, 20, 20 (a tie with the best) and 5; at the tie and at the drop the kept
    network is played on its own, on the same start states, and scores 17 and 19."""
    import copy
    from pathlib import Path
    from types import SimpleNamespace

    import torch

    from autograder.stability import load_training
    ns = load_training(Path(__file__).resolve().parents[1] / "notebooks" / "05_actor_critic" / "05a_a2c.ipynb",
                       extra=("train_a2c",))
    scores, seeds = iter([10.0, 20.0, 20.0, 17.0, 5.0, 19.0]), []

    def scripted_evaluate(env, act, n_episodes, seed):
        seeds.append(seed)
        return SimpleNamespace(mean=next(scores))

    copies = []

    def deepcopy(model):
        copies.append(copy.deepcopy(model))
        return copies[-1]

    ns["evaluate"], ns["copy"] = scripted_evaluate, SimpleNamespace(deepcopy=deepcopy)
    config = ns["A2CConfig"](n_envs=2, n_steps=5, total_steps=40, eval_every=10, eval_episodes=1, stop_at_threshold=False)
    model, log = ns["train_a2c"](config, seed=0, live_plot=False)
    # evaluations after 10, 20, 30 and 40 steps; the kept network was played at 30 (the tie) and 40 (the drop)
    assert seeds == [10_010, 10_020, 10_030, 10_030, 10_040, 10_040]
    assert [v for _, v in log.history["eval_return"]] == [10.0, 20.0, 20.0, 5.0]
    assert [v for _, v in log.history["kept_return"]] == [10.0, 20.0, 17.0, 19.0]
    assert len(copies) == 2 and log.kept_model is copies[1]      # copied after 10 and 20 steps, not at the tie
    assert any(not torch.equal(a, b) for a, b in zip(log.kept_model.parameters(), model.parameters()))
