"""The saved runs behind notebook 06c's lab: PPO's implementation details, one at a time (instructors).

    python -m autograder.ch06_lab_runs                                   # every task and variant, seeds 0 1 2
    python -m autograder.ch06_lab_runs --tasks pendulum --variants baseline trunc_terminal
    python -m autograder.ch06_lab_runs --seeds 0 --variants baseline --steps 1024 --out /tmp/x   # a smoke test

Trains 06b's ``train_ppo`` with the solution's ``ppo_update`` (loaded from the solution notebook by
:func:`autograder.stability.load_training`: definitions only, nothing else in the notebook runs) in full
mode, without live plots and without stopping at the threshold. Each task has a baseline (CartPole-v1:
06b's settings, ``train_ppo``'s defaults; Pendulum-v1: 06c's settings, after rl-zoo's) and variants
that change one setting. Each (task, variant) becomes
``notebooks/06_ppo/reference_curves/06c_<task>.<variant>.csv`` (:mod:`course_lib.reference_curves`: mean,
lowest and highest seed of the greedy evaluations), whose header also records each seed's evaluations
(``evals_seed<k>: step:training seconds:return ...``, from which 06c's tables are computed), its training
seconds, and the machine.
"""
from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_lib.envs import SOLVED_RETURN

REPO = Path(__file__).resolve().parents[1]
CHAPTER = REPO / "notebooks" / "06_ppo"
OUT = CHAPTER / "reference_curves"

# CartPole-v1: 06b's settings (train_ppo's defaults: rl-zoo's tuned PPO with 10 epochs of 4 minibatches of 64).
CARTPOLE = dict(env_id="CartPole-v1", threshold=SOLVED_RETURN["CartPole-v1"], y_range=(0, 500))
# Pendulum-v1: rl-zoo's PPO (gamma 0.9, lambda 0.95, 10 epochs) without gSDE and VecNormalize, reward scale 0.1
# (the peer benchmark's PPO on Pendulum trains with these settings too).
PENDULUM = dict(env_id="Pendulum-v1", n_envs=8, n_steps=256, epochs=10, minibatch_size=64, gamma=0.9, lam=0.95,
                anneal_clip=False, reward_scale=0.1, threshold=SOLVED_RETURN["Pendulum-v1"],
                y_range=(-1600, 0))

#: the details switched on both tasks, one at a time against the task's baseline
SHARED_VARIANTS = {
    "trunc_terminal": {"bootstrap_truncated": False},
    "lr_constant": {"anneal_lr": False},
    "clip0.1": {"clip": 0.1},
    "clip10": {"clip": 10.0},
    "target_kl0.01": {"target_kl": 0.01},
    "obs_norm": {"obs_norm": True},
    "lam1.0": {"lam": 1.0},
    "no_adv_norm": {"update_edit": "no_adv_norm"},
    "value_clip": {"update_edit": "value_clip"},
    "shared": {"shared": True},
}
TASKS = {
    "cartpole": {"settings": CARTPOLE, "steps": 50_000, "eval_every": 2_048, "variants": {
        "baseline": {}, "epochs1": {"epochs": 1}, "epochs4": {"epochs": 4}, **SHARED_VARIANTS}},
    "pendulum": {"settings": PENDULUM, "steps": 80_000, "eval_every": 4_096, "variants": {
        "baseline": {}, "reward_scale1": {"reward_scale": 1.0}, "epochs3": {"epochs": 3}, "epochs20": {"epochs": 20},
        **SHARED_VARIANTS}},
}


# Details that live inside the graded ppo_update (exercise 8) are switched by editing the reference's text
# for the lab's runs only: advantage normalisation off is the mistake registry's own edit; value clipping
# (PPO2's, with the value's clip range equal to the policy's) bounds each value's move from the value at
# collection, which is returns - advantages (returns = advantages + V_old).
VALUE_LOSS = "            value_loss = (batch.returns[idx] - values).pow(2).mean()\n"
VALUE_CLIPPED = ("            v_old = batch.returns[idx] - batch.advantages[idx]\n"
                 "            v_clipped = v_old + (values - v_old).clamp(-clip, clip)\n"
                 "            value_loss = torch.max((batch.returns[idx] - values).pow(2),\n"
                 "                                   (batch.returns[idx] - v_clipped).pow(2)).mean()\n")
UPDATE_EDITS = {"no_adv_norm": "advantages not normalised", "value_clip": (VALUE_LOSS, VALUE_CLIPPED)}


def edited_update(namespace: dict, edit: str):
    """The reference ``ppo_update`` with one of :data:`UPDATE_EDITS`, defined in a copy of ``namespace``."""
    from autograder.reference.ch06_ppo import MISTAKES
    from autograder.verdict import extract

    code = extract.split(extract.source("06_ppo"))[1]["ppo_update"]
    how = UPDATE_EDITS[edit]
    if isinstance(how, str):
        code = next(m for m in MISTAKES if m.exercise == "ppo_update" and m.description == how).apply(code)
    else:
        if how[0] not in code:
            raise ValueError(f"the reference ppo_update no longer contains {how[0]!r}")
        code = code.replace(*how)
    scope = dict(namespace)
    exec(compile(code, f"<ppo_update, {edit}>", "exec"), scope)  # noqa: S102
    return scope["ppo_update"]


def seed_summary(steps, seconds, values, threshold):
    """(steps, seconds) of the first evaluation >= threshold (None if never), the share of the later
    evaluations >= threshold (None if none), the last evaluation."""
    import numpy as np

    hit = np.flatnonzero(np.asarray(values) >= threshold)
    if not len(hit):
        return None, None, None, float(values[-1])
    first = int(hit[0])
    later = np.asarray(values[first + 1:])
    return int(steps[first]), float(seconds[first]), (float(np.mean(later >= threshold)) if len(later) else None), \
        float(values[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.ch06_lab_runs", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--variants", nargs="+", help="only these variants (default: every variant of each task)")
    parser.add_argument("--steps", type=int, help="environment steps per run (default: the task's budget)")
    parser.add_argument("--eval-every", type=int, help="steps between evaluations (default: the task's)")
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the CSV files go (default {OUT.relative_to(REPO)})")
    parser.add_argument("--notebook", type=Path, default=CHAPTER / "06b_ppo.ipynb",
                        help="the notebook whose ppo_update and train_ppo are trained (the solution)")
    parser.add_argument("--keep-runs", help="keep the run folders in this folder")
    args = parser.parse_args(argv)
    os.environ["COURSE_FAST"] = "0"
    os.environ.setdefault("COURSE_QUIET_LOGGER", "1")
    import matplotlib

    matplotlib.use("Agg")
    from autograder.stability import load_training
    from course_lib.reference_curves import build_reference_curve, save_reference_curve
    from course_lib.runs import read_run

    ns = load_training(Path(args.notebook), extra=("train_ppo", "gae", "make_envs"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    written = []
    with tempfile.TemporaryDirectory(prefix="ch06_lab_") as tmp:
        root = Path(args.keep_runs or tmp)
        for task in args.tasks:
            spec = TASKS[task]
            steps = args.steps or spec["steps"]
            eval_every = args.eval_every or min(spec["eval_every"], max(steps // 2, 1))
            threshold = spec["settings"]["threshold"]
            for variant, change in spec["variants"].items():
                if args.variants and variant not in args.variants:
                    continue
                runs, info_seeds = [], {}
                for seed in args.seeds:
                    run_dir = root / f"06c_{task}" / variant / f"seed{seed}"
                    start = time.perf_counter()
                    kwargs = {**spec["settings"], **change}
                    edit = kwargs.pop("update_edit", None)
                    reference_update = ns["ppo_update"]
                    if edit:             # train_ppo finds ppo_update in this namespace: swap it for this run
                        ns["ppo_update"] = edited_update(ns, edit)
                    try:
                        ns["train_ppo"](seed=seed, **kwargs, total_steps=steps, eval_every=eval_every,
                                        eval_episodes=args.eval_episodes, stop_at_threshold=False, live_plot=False,
                                        run_dir=run_dir, desc=f"{task} {variant} seed {seed}")
                    finally:
                        ns["ppo_update"] = reference_update
                    run = read_run(run_dir)
                    x, y = run.curve("eval_return")
                    secs, _ = run.curve("eval_return", x="seconds")
                    train_seconds = float(run.status.get("seconds") or (secs[-1] if len(secs) else 0.0))
                    hit_steps, hit_secs, share, final = seed_summary(x, secs, y, threshold)
                    info_seeds[seed] = (train_seconds, " ".join(f"{int(a)}:{b:.1f}:{c:.1f}" for a, b, c in zip(x, secs, y)))
                    print(f"{task} {variant} seed {seed}: {time.perf_counter() - start:.0f} s wall, "
                          f"{train_seconds:.0f} s of training; first >= {threshold:g}: "
                          + (f"{hit_steps:,} steps, {hit_secs:.1f} s" if hit_steps else "never")
                          + (f", later evaluations at it {share:.0%}" if share is not None else "")
                          + f"; last evaluation {final:.0f}", flush=True)
                    runs.append(run)
                settings = {**spec["settings"], **change}
                settings.pop("y_range", None)
                info = {"task": task, "variant": variant, "change": repr(change) if change else "none (the baseline)",
                        "settings": repr(settings), "threshold": f"{threshold:g}",
                        "source": f"06b solution's train_ppo, {steps:,} steps, {args.eval_episodes} greedy evaluation "
                                  f"episodes every {eval_every:,} steps, seeds " + " ".join(map(str, args.seeds)),
                        "training_seconds": " ".join(f"{info_seeds[s][0]:.1f}" for s in args.seeds),
                        **{f"evals_seed{s}": info_seeds[s][1] for s in args.seeds},
                        "built": f"{datetime.date.today().isoformat()} at commit {commit} on {os.cpu_count()} CPUs "
                                 "(python -m autograder.ch06_lab_runs)"}
                curve = build_reference_curve(runs, name=f"PPO {spec['settings']['env_id']}, {variant}", info=info)
                path = save_reference_curve(curve, Path(args.out) / f"06c_{task}.{variant}.csv")
                written.append(path)
                print("  ->", path, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
