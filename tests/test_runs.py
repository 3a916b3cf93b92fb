"""The experiment toolkit: runs on disk, the training clock, the grid, the plots, reference curves,
watching a saved agent, the command line. Expectations computed by hand."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from matplotlib.collections import PolyCollection

from course_lib import experiments
from course_lib.diagnostics import plot_diagnostics
from course_lib.grid import Grid, run_grid, variant_name
from course_lib.logger import TrainingLogger
from course_lib.plots import align_curves, plot_learning_curves, plot_runs, save_figure
from course_lib.reference_curves import build_reference_curve, read_reference_curve, save_reference_curve
from course_lib.runs import RunWriter, find_runs, read_run, run_path
from course_lib.watch import load_policy

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def fake_run(root, experiment, variant, seed, evals, threshold=475.0):
    """A finished run whose greedy evaluations are ``evals`` = [(step, value), ...]."""
    log = TrainingLogger(evals[-1][0], desc=f"{variant} {seed}", threshold=threshold, live_plot=False,
                         run_dir=run_path(experiment, variant, seed, root), config={"env_id": "CartPole-v1"})
    for step, value in evals:
        log.step(step - log.steps)
        log.log(loss=1.0 / step, entropy=0.5)
        log.evaluation(value)
    log.close()
    return log


# ------------------------------------------------------------------ runs on disk
def test_run_folder_round_trip(tmp_path):
    w = RunWriter(tmp_path / "exp" / "v" / "seed0", config={"lr": 1e-3, "hidden": (64, 64), "env_id": "CartPole-v1"})
    assert json.loads((w.path / "config.json").read_text())["hidden"] == [64, 64], "config written first"
    w.write(10, 0.5, loss=2.0, entropy=0.7)
    w.write(20, 1.0, loss=1.0)
    w.close()
    run = read_run(w.path)
    assert run.status["status"] == "finished" and run.config["lr"] == 1e-3
    assert (run.experiment, run.variant, run.seed) == ("exp", "v", "seed0")
    steps, loss = run.curve("loss")
    np.testing.assert_array_equal(steps, [10, 20])
    np.testing.assert_array_equal(loss, [2.0, 1.0])
    np.testing.assert_array_equal(run.curve("loss", x="seconds")[0], [0.5, 1.0])
    assert run.curve("entropy")[1].tolist() == [0.7] and len(run.curve("kl")[0]) == 0


INTERRUPTED = textwrap.dedent("""
    import os, sys, time
    from course_lib.logger import TrainingLogger
    log = TrainingLogger(1000, desc="killed", live_plot=False, run_dir=sys.argv[1], config={"lr": 0.1})
    for step in range(1, 1001):
        log.step()
        log.log(loss=1.0 / step)
        if step == 300:
            print("ready", flush=True)
            time.sleep(60)          # killed here, without close()
""")


def test_interrupted_run_leaves_a_readable_folder(tmp_path):
    folder = tmp_path / "runs" / "exp" / "v" / "seed3"
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED, str(folder)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    with open(folder / "progress.csv", "a") as fh:
        fh.write("301,0.1,lo")                  # a row cut in half by the kill
    run = read_run(folder)
    assert run.config["lr"] == 0.1 and run.config["desc"] == "killed"
    assert run.status["status"] == "running", "a killed run is not marked finished"
    steps, loss = run.curve("loss")
    assert steps.tolist() == list(range(1, 301)), "every row logged before the kill is on disk, the cut one skipped"
    np.testing.assert_allclose(loss, 1.0 / np.arange(1, 301))


def test_logger_training_clock_excludes_paused_time(tmp_path):
    log = TrainingLogger(10, live_plot=False, run_dir=tmp_path / "r")
    with log.paused():
        time.sleep(0.3)
    log.step(10)
    log.log(x=1.0)
    assert log.seconds < 0.2, f"paused time counted as training: {log.seconds:.2f} s"
    assert read_run(tmp_path / "r").curve("x", x="seconds")[0][0] < 0.2
    log.close()


def test_logger_bar_is_complete_when_solved_early(tmp_path):
    log = TrainingLogger(10_000, threshold=475, live_plot=False)
    log.step(600)
    assert log.evaluation(480.0) and log.solved_at[0] == 600
    log.close()
    assert log._bar.total == log._bar.n == 600, "a run that stopped because it succeeded ends as a full bar"
    unsolved = TrainingLogger(10_000, threshold=475, live_plot=False)
    unsolved.step(600)
    unsolved.close()
    assert unsolved._bar.total == 10_000, "an unsolved run that stopped early keeps its real total"


def test_find_runs_and_group(tmp_path):
    for seed in (0, 1):
        fake_run(tmp_path, "e", "a", seed, [(100, 10.0), (200, 20.0)])
    fake_run(tmp_path, "e", "b", 0, [(100, 1.0)])
    runs = find_runs(tmp_path / "e")
    assert [(r.variant, r.seed) for r in runs] == [("a", "seed0"), ("a", "seed1"), ("b", "seed0")]
    assert len(find_runs(tmp_path / "e" / "a" / "seed1")) == 1
    with pytest.raises(FileNotFoundError):
        find_runs(tmp_path / "nothing")


# ------------------------------------------------------------------ grid
def train_for_grid(seed, run_dir, lr=0.1, fail=False):
    """A training function for the grid tests: logs three points; fails when asked to."""
    Path(run_dir, "executions.txt").open("a").write(f"{os.getpid()}\n")
    log = TrainingLogger(3, live_plot=False, run_dir=run_dir, config={"lr": lr, "seed": seed, "pid": os.getpid()})
    print("printed by the run")
    if fail:
        raise ValueError(f"bad hyperparameter lr={lr}")
    for k in range(3):
        log.step()
        log.evaluation(lr * (k + 1) + seed)
    time.sleep(0.2)  # long enough that both workers take runs
    log.close()


def test_grid_is_parallel_resumable_and_reports_failures(tmp_path):
    grid = Grid("g", params={"lr": [0.1, 0.2], "fail": [False, True]}, seeds=[0, 1], root=tmp_path)
    assert variant_name({"lr": 0.1, "fail": True}) == "lr=0.1,fail=True"
    assert len(grid.runs()) == 8 and grid.folder == tmp_path / "g"
    result = run_grid(train_for_grid, grid, n_workers=2)
    assert len(result.finished) == 4 and len(result.failed) == 4 and not result.skipped, str(result)
    assert all("bad hyperparameter" in e for e in result.failed.values()), result.failed
    failed_folder = next(iter(result.failed))
    assert read_run(failed_folder).status["status"] == "failed"
    assert "printed by the run" in Path(failed_folder, "output.txt").read_text()
    ok = read_run(tmp_path / "g" / "lr=0.2,fail=False" / "seed1")
    assert ok.status["status"] == "finished" and ok.curve("eval_return")[1].tolist() == pytest.approx([1.2, 1.4, 1.6])
    pids = {read_run(r.folder).config["pid"] for r in result.finished}
    assert len(pids) == 2 and os.getpid() not in pids, f"runs ran in {pids}: not two worker processes"

    again = run_grid(train_for_grid, grid, n_workers=2)
    assert len(again.skipped) == 4 and len(again.failed) == 4 and not again.finished, "finished runs are skipped"
    for run in result.finished:
        assert len(Path(run.folder, "executions.txt").read_text().split()) == 1, "a finished run ran twice"


def test_grid_sends_a_notebook_function_to_spawned_workers(tmp_path):
    namespace = {"__name__": "__main__"}
    source = textwrap.dedent("""
        from course_lib.logger import TrainingLogger
        SCALE = 10.0
        def notebook_train(seed, run_dir, lr=1.0):
            log = TrainingLogger(1, live_plot=False, run_dir=run_dir)
            log.step()
            log.evaluation(SCALE * lr + seed)
            log.close()
    """)
    exec(compile(source, "<notebook cell>", "exec"), namespace)
    namespace["notebook_train"].__course_source__ = source.split("SCALE = 10.0\n")[1]
    result = run_grid(namespace["notebook_train"], Grid("nb", params={"lr": [2.0]}, seeds=[1], root=tmp_path),
                      n_workers=1, start_method="spawn")
    assert len(result.finished) == 1, str(result)
    assert read_run(result.finished[0].folder).curve("eval_return")[1].tolist() == [21.0]


# ------------------------------------------------------------------ plots
def test_multi_seed_plot_mean_band_clip_threshold(tmp_path):
    fake_run(tmp_path, "e", "dqn", 0, [(100, 400.0), (200, 500.0)])
    fake_run(tmp_path, "e", "dqn", 1, [(100, 200.0), (200, 500.0)])
    fake_run(tmp_path, "e", "dqn", 2, [(100, 300.0)])       # stopped at step 100 (solved early): holds 300
    ax = plot_runs([tmp_path / "e"], threshold=475, y_range=(0, 500), points=2)
    path = save_figure(ax, tmp_path / "curves.png")
    assert path.stat().st_size > 5_000
    line = next(ln for ln in ax.get_lines() if ln.get_label().startswith("dqn"))
    assert line.get_label() == "dqn (3 seeds)"
    np.testing.assert_allclose(line.get_xdata(), [100, 200])
    np.testing.assert_allclose(line.get_ydata(), [300.0, 1300 / 3])
    band = [c for c in ax.collections if isinstance(c, PolyCollection)][0]
    top = max(v[:, 1].max() for v in band.get_paths()[0].to_polygons())
    assert top <= 500.0, f"the band goes above the achievable 500: {top}"
    labels = ax.get_legend_handles_labels()[1]
    assert "threshold 475" in labels, labels
    default = plot_runs([tmp_path / "e"])
    assert "threshold 475" in default.get_legend_handles_labels()[1], "the threshold comes from the runs' config"
    plt.close("all")


def test_align_curves_hold_last_or_nan():
    grid, values = align_curves([([0, 10], [0.0, 10.0]), ([0, 5], [1.0, 2.0])], points=3)
    np.testing.assert_allclose(grid, [0, 5, 10])
    np.testing.assert_allclose(values, [[0, 5, 10], [1, 2, 2]])
    _, values = align_curves([([0, 10], [0.0, 10.0]), ([0, 5], [1.0, 2.0])], points=3, hold_last=False)
    assert np.isnan(values[1, 2])


def test_learning_curves_band_clipped_and_threshold_in_legend():
    ax = plot_learning_curves({"a": np.array([[480.0, 500.0], [420.0, 500.0]])}, threshold=475, y_range=(0, 500))
    band = [c for c in ax.collections if isinstance(c, PolyCollection)][0]
    assert max(v[:, 1].max() for v in band.get_paths()[0].to_polygons()) <= 500.0
    assert "threshold 475" in ax.get_legend_handles_labels()[1]
    plt.close("all")


def test_reference_curve_round_trip_and_band(tmp_path):
    fake_run(tmp_path, "e", "ref", 0, [(100, 100.0), (300, 500.0)])
    fake_run(tmp_path, "e", "ref", 1, [(100, 300.0), (200, 500.0)])   # solved at 200: holds 500
    ref = build_reference_curve(find_runs(tmp_path / "e"), name="solution", points=3, info={"source": "test"})
    np.testing.assert_allclose(ref.x, [100, 200, 300])
    np.testing.assert_allclose(ref.mean, [200, 400, 500])
    np.testing.assert_allclose(ref.low, [100, 300, 500])
    np.testing.assert_allclose(ref.high, [300, 500, 500])
    loaded = read_reference_curve(save_reference_curve(ref, tmp_path / "reference_curves" / "x.csv"))
    assert (loaded.name, loaded.metric, loaded.n_seeds, loaded.info["source"]) == ("solution", "eval_return", 2, "test")
    np.testing.assert_allclose(loaded.high, ref.high)
    fake_run(tmp_path, "mine", "dqn", 0, [(100, 50.0), (300, 450.0)])
    ax = plot_runs([tmp_path / "mine"], reference=loaded, threshold=475, y_range=(0, 500))
    labels = ax.get_legend_handles_labels()[1]
    assert "reference: range of 2 seeds" in labels and "dqn (1 seed)" in labels, labels
    plt.close("all")


def test_diagnostics_panel_from_disk_and_live(tmp_path):
    log = fake_run(tmp_path, "e", "a2c", 0, [(100, 10.0), (200, 20.0), (300, 30.0)])
    fig = plot_diagnostics(tmp_path / "e" / "a2c" / "seed0", y_range=(0, 500))
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles == ["return", "losses", "entropy"], titles
    assert "solved (475)" in fig.axes[0].get_legend_handles_labels()[1], "threshold from the run's config, in the legend"
    assert save_figure(fig, tmp_path / "panel.png").stat().st_size > 5_000
    live = log.panel()
    assert [ax.get_title() for ax in live.axes if ax.axison] == titles
    plt.close("all")


def test_the_kept_networks_evaluations_share_the_return_panel():
    from course_lib.diagnostics import _panels_for
    panels = _panels_for(["episode_return", "loss", "eval_return", "kept_return", "epsilon"])
    assert [(title, members) for title, _, members, _ in panels] == [
        ("return", ["episode_return", "eval_return", "kept_return"]), ("losses", ["loss"]), ("epsilon", ["epsilon"])]


def test_clocks_get_no_panel_of_their_own():
    from course_lib.diagnostics import _panels_for
    panels = _panels_for(["eval_return", "run_seconds", "grad_norm", "lr"])
    assert [title for title, *_ in panels] == ["return", "gradient norm", "lr"]


# ------------------------------------------------------------------ watch and the command line
def test_saved_policy_loads_without_its_class(tmp_path):
    net = torch.nn.Linear(4, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]))
        net.bias.zero_()
    log = TrainingLogger(1, live_plot=False, run_dir=tmp_path / "r", config={"env_id": "CartPole-v1"})
    log.save_model(net, torch.zeros(1, 4))
    log.close()
    policy = load_policy(tmp_path / "r")
    assert policy(np.array([1.0, 0.0, 0, 0])) == 0 and policy(np.array([0.0, 1.0, 0, 0])) == 1
    assert (tmp_path / "r" / "model.pt").exists()


def test_command_line_plot_and_watch(tmp_path):
    for seed in (0, 1):
        fake_run(tmp_path, "e", "a", seed, [(100, 10.0), (200, 30.0)])
    out = tmp_path / "out.png"
    assert experiments.main(["plot", str(tmp_path / "e"), "-o", str(out), "--threshold", "475",
                             "--y-range", "0", "500"]) == 0
    assert out.stat().st_size > 5_000
    assert experiments.main(["plot", str(tmp_path / "e" / "a" / "seed0"), "--panel"]) == 0
    assert (tmp_path / "e" / "a" / "seed0" / "panel.png").exists()
    log = TrainingLogger(1, live_plot=False, run_dir=tmp_path / "w", config={"env_id": "CartPole-v1"})
    log.save_model(torch.nn.Linear(4, 2), torch.zeros(1, 4))
    log.close()
    assert experiments.main(["watch", str(tmp_path / "w"), "--gif", str(tmp_path / "a.gif"), "--max-steps", "20"]) == 0
    assert (tmp_path / "a.gif").read_bytes()[:6] == b"GIF89a"
    plt.close("all")


def test_grid_values_from_the_command_line():
    assert experiments.parse_grid(["lr=3e-4,1e-3", "net=small,big", "shared=True,False"]) == {
        "lr": [3e-4, 1e-3], "net": ["small", "big"], "shared": [True, False]}


def test_grid_fixed_hyperparameters_and_variant_name(tmp_path):
    (run,) = Grid("e", seeds=[4], root=tmp_path, fixed={"total_steps": 100}, variant="three_seeds").runs()
    assert run.params == {"total_steps": 100} and Path(run.folder) == tmp_path / "e" / "three_seeds" / "seed4"
    runs = Grid("e", params={"lr": [0.5]}, seeds=[0], root=tmp_path, fixed={"total_steps": 100}).runs()
    assert runs[0].params == {"total_steps": 100, "lr": 0.5} and runs[0].variant == "lr=0.5"


def test_notebook_bar_is_green_when_solved_early(monkeypatch):
    import tqdm.notebook

    import course_lib.logger as logger_module

    monkeypatch.setattr(logger_module, "tqdm", tqdm.notebook.tqdm)
    solved = TrainingLogger(10_000, threshold=475, live_plot=False)
    solved.step(600)
    solved.evaluation(480.0)
    solved.close()
    bar = solved._bar.container.children[1]
    assert (bar.bar_style, bar.value, bar.max) == ("success", 600, 600), "solved early: a full, green bar"
    stopped = TrainingLogger(10_000, threshold=475, live_plot=False)
    stopped.step(600)
    stopped.close()
    assert stopped._bar.container.children[1].bar_style == "danger", "stopped early without success: red"


def test_load_notebook_function_takes_what_the_notebook_takes_from_another(tmp_path, monkeypatch):
    """`./course run` on 04b: train_vpg_gae uses 4a's mlp, which 04b takes with use_from; the loader runs that
    line from the notebook's folder, wherever it is called from."""
    monkeypatch.chdir(tmp_path)
    nb = Path(__file__).resolve().parents[1] / "notebooks" / "04_policy_gradient" / "04b_gae_gaussian.ipynb"
    train = experiments.load_notebook_function(nb, "train_vpg_gae")
    assert callable(train.__globals__["mlp"]) and "VPGGAEConfig" in train.__globals__
    with pytest.raises(TypeError, match="has no setting 'lr_policy'"):
        train(lr_policy=1e-3)


def test_a_logger_writes_its_run_to_a_folder_given_later_and_only_one(tmp_path):
    log = TrainingLogger(10, live_plot=False)
    log.step(3)
    log.write_run_to(tmp_path / "a", config={"lr": 0.1})
    log.log(loss=0.5)
    with pytest.raises(ValueError, match="writes its run to .* already"):
        log.write_run_to(tmp_path / "b", config={})
    log.close()
    run = read_run(tmp_path / "a")
    assert run.config == {"lr": 0.1} and run.status["status"] == "finished"
    assert list(run.curve("loss")[1]) == [0.5] and list(run.curve("loss")[0]) == [3]
    assert not (tmp_path / "b").exists()
