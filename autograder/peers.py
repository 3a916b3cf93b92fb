"""The course's agents against Stable-Baselines3, one protocol for both: ``./course bench --peers``.

    ./course bench --peers                 # every pair, 3 seeds, full-mode budgets (tens of minutes)
    ./course bench --peers 03_dqn --seeds 0 1 2 3 4

For each pair (a chapter's solution agent, trained exactly as the notebook's full mode trains it,
and its nearest Stable-Baselines3 agent with the rl-zoo hyperparameters of the same task), seeds
run alternately (course, peer, course, peer, ...), one torch thread, on the same machine. The
pairs: DQN (03a), A2C (05a) and PPO (06b) on CartPole-v1 (threshold 475, an evaluation every
2,000 steps); PPO on Acrobot-v1 (06b; -100, every 4,096 steps) and Pendulum-v1 (06c; -200, every
4,096 steps); DDPG and TD3 (07a) and SAC (07b) on Pendulum-v1 (threshold -200, every 1,000 steps,
as chapter 7 evaluates). The protocol (:class:`Protocol`) is the notebooks': every ``eval_every``
environment steps, 10 greedy (deterministic) episodes from *fresh* start states (episode ``i`` of
the evaluation at step ``t`` is reset with seed ``eval_seed + t + i``); the evaluation's time is
not training time. An evaluation comes once the agent has trained on the steps taken (see
:func:`peer_run`), so agents that update in chunks (PPO's 256-step rollouts, SB3 DQN's 256 steps)
are evaluated at the end of the chunk that crosses the multiple of ``eval_every``. Per pair and
seed the table gives the environment steps and training seconds to the first evaluation at the
threshold, the ratio course/peer of both, the share of later evaluations still at the threshold
("stays solved"), and training steps per second.

Stable-Baselines3 and rl_zoo3 are the optional ``bench`` extra (``requirements-bench.lock``),
installed on first use; students never install them. rl_zoo3 is installed without its
dependencies: only its hyperparameter files are read (its own dependencies conflict with the
course's lock, python-dateutil among them).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from autograder import ch06_lab_runs, stability
from course_lib.envs import SOLVED_RETURN

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements-bench.lock"
RESULTS = REPO / "benchmarks" / "peers.md"


@dataclass(frozen=True)
class Protocol:
    """How both sides are measured. Thresholds: ``course_lib.envs.SOLVED_RETURN`` (CartPole-v1 475, Acrobot-v1
    -100, Pendulum-v1 -200)."""

    env_id: str = "CartPole-v1"
    threshold: float = SOLVED_RETURN["CartPole-v1"]
    eval_every: int = 2_000        # environment steps between evaluations
    eval_episodes: int = 10
    eval_seed: int = 10_000        # evaluation at step t, episode i: reset(seed=eval_seed + t + i)


@dataclass
class Run:
    """One training run: ``evals`` are ``(env steps, mean greedy return)``; ``solved_at`` is
    ``(env steps, training seconds)`` at the first evaluation >= the threshold, or None."""

    evals: list[tuple[int, float]]
    solved_at: tuple[int, float] | None
    steps: int
    seconds: float                 # training seconds of the whole run, evaluations excluded
    kept: list[tuple[int, float]] | None = None   # 03a, 05a: the best checkpoint, played at each evaluation too


@dataclass
class Pair:
    """A course agent and its peer on one task."""

    label: str
    chapter: str
    peer_algo: str                 # the Stable-Baselines3 class name, lower case (rl-zoo file name)
    budget: int                    # environment steps per run (the notebook's full mode)
    course: Callable[[int, Protocol, int], Run]
    protocol: Protocol = field(default_factory=Protocol)


# ------------------------------------------------------------------ the course's side


def _course_dqn(seed: int, protocol: Protocol, budget: int) -> Run:
    """03a's ``train_dqn`` with its full-mode DQNConfig (trained to the end, never stopped early)."""
    ns = stability.load_training()
    run = ns["train_dqn"](seed=seed, stop_when_solved=False, total_steps=budget, eval_every=protocol.eval_every,
                          eval_episodes=protocol.eval_episodes, eval_seed=protocol.eval_seed,
                          threshold=protocol.threshold)
    return Run(_points(run["evals"]), run["solved_at"], int(run["steps"]), float(run["seconds"]),
               _points(run["kept_evals"]))


def _course_a2c(seed: int, protocol: Protocol, budget: int) -> Run:
    """05a's ``train_a2c`` with the notebook's settings, trained to the end (with its kept network's evaluations)."""
    ns = stability.load_training(REPO / "notebooks" / "05_actor_critic" / "05a_a2c.ipynb", extra=("train_a2c",))
    config = ns["A2CConfig"](total_steps=budget, eval_every=protocol.eval_every, eval_episodes=protocol.eval_episodes,
                             eval_seed=protocol.eval_seed, threshold=protocol.threshold, stop_at_threshold=False)
    _, log = ns["train_a2c"](config, seed=seed, live_plot=False)
    return _run_of(log, kept=_points(log.history["kept_return"]))


def _points(pairs) -> list[tuple[int, float]]:
    """``[(env steps, value), ...]`` as plain ints and floats."""
    return [(int(s), float(v)) for s, v in pairs]


def _run_of(log, kept: list[tuple[int, float]] | None = None) -> Run:
    return Run(_points(log.history["eval_return"]), log.solved_at, int(log.steps), float(log.seconds), kept)


def _course_ppo(settings: dict | None = None) -> Callable[[int, Protocol, int], Run]:
    """06b's ``train_ppo`` with the notebook's full-mode settings for the task (CartPole: its defaults,
    8 envs x 32 steps, 10 epochs of minibatches of 64, lr 1e-3 and clip 0.2 annealed; Acrobot and
    Pendulum: the keyword arguments the notebooks pass, ``settings``), trained to the end. train_ppo
    evaluates when a rollout ends at or after each multiple of ``eval_every`` (the peer does the same,
    see :func:`peer_run`), from fresh start states: the evaluation at step ``t`` resets episode ``i``
    with ``eval_seed + t + i``, the protocol's."""

    def course(seed: int, protocol: Protocol, budget: int) -> Run:
        ns = stability.load_training(REPO / "notebooks" / "06_ppo" / "06b_ppo.ipynb",
                                     extra=("train_ppo", "gae", "make_envs"))
        _, log = ns["train_ppo"](seed=seed, env_id=protocol.env_id, total_steps=budget, eval_every=protocol.eval_every,
                                 eval_episodes=protocol.eval_episodes, eval_seed=protocol.eval_seed,
                                 threshold=protocol.threshold, stop_at_threshold=False, live_plot=False,
                                 **(settings or {}))
        return _run_of(log)
    return course


#: 06b's Acrobot settings (section 8: rl-zoo's, with lambda 0.95 for 0.94) and 06c's Pendulum settings (rl-zoo's gamma, lambda and epochs)
PPO_ACROBOT = dict(n_envs=16, n_steps=128, epochs=4, minibatch_size=256, gamma=0.99, lam=0.95, anneal_clip=False,
                   reward_scale=0.1)
PPO_PENDULUM = {k: v for k, v in ch06_lab_runs.PENDULUM.items() if k not in ("env_id", "threshold", "y_range")}


#: 07a and 07b evaluate at step t with evaluate_with_q(..., seed=100_000 + t): fresh start states, and
#: the Pendulum protocol's eval_seed is that 100_000, so the notebooks' own evaluations are the protocol's.
_CH07_EVAL_SEED = 100_000


def _chapter7(ns: dict, protocol: Protocol) -> dict:
    """Point a chapter-7 namespace's evaluations at ``protocol.eval_seed`` (a no-op for the Pendulum protocol)."""
    if protocol.eval_seed != _CH07_EVAL_SEED:
        evaluate_with_q = ns["evaluate_with_q"]

        def reseeded(env, act, q_value=None, n_episodes=10, seed=0, gamma=0.99):
            return evaluate_with_q(env, act, q_value, n_episodes=n_episodes,
                                   seed=seed - _CH07_EVAL_SEED + protocol.eval_seed, gamma=gamma)
        ns["evaluate_with_q"] = reseeded
    return ns


def _course_07a(algo: str) -> Callable[[int, Protocol, int], Run]:
    def course(seed: int, protocol: Protocol, budget: int) -> Run:
        ns = stability.load_training(REPO / "notebooks" / "07_ddpg_td3_sac" / "07a_ddpg_td3.ipynb",
                                     extra=("train_agent",))
        _, log = _chapter7(ns, protocol)["train_agent"](
            algo, seed=seed, env_id=protocol.env_id, total_steps=budget, learning_starts=1_000,
            eval_every=protocol.eval_every, eval_episodes=protocol.eval_episodes, threshold=protocol.threshold,
            stop_at_threshold=False, live_plot=False)
        return _run_of(log)
    course.__name__ = f"_course_{algo}"
    course.__doc__ = (f"07a's ``train_agent(\"{algo}\")`` with its full-mode settings (20,000 steps, 1,000 random "
                      "steps first, two updates per step for DDPG and one for TD3), trained to the end; evaluated "
                      "every eval_every steps from fresh start states by the notebook itself.")
    return course


def _course_sac(seed: int, protocol: Protocol, budget: int) -> Run:
    """07b's ``train_sac`` with its full-mode settings (20,000 steps, 1,000 random steps first, two updates per
    step), trained to the end; 07b takes ``polyak_update`` from 07a with its import cell's ``use_from`` line,
    which ``load_training`` runs."""
    folder = REPO / "notebooks" / "07_ddpg_td3_sac"
    ns = stability.load_training(folder / "07b_sac.ipynb", extra=("train_sac",))
    _, log = _chapter7(ns, protocol)["train_sac"](
        seed=seed, env_id=protocol.env_id, total_steps=budget, learning_starts=1_000, eval_every=protocol.eval_every,
        eval_episodes=protocol.eval_episodes, threshold=protocol.threshold, stop_at_threshold=False, live_plot=False)
    return _run_of(log)


PENDULUM = Protocol("Pendulum-v1", SOLVED_RETURN["Pendulum-v1"], eval_every=1_000, eval_seed=_CH07_EVAL_SEED)
ACROBOT = Protocol("Acrobot-v1", SOLVED_RETURN["Acrobot-v1"], eval_every=4_096)
PENDULUM_PPO = Protocol("Pendulum-v1", SOLVED_RETURN["Pendulum-v1"], eval_every=4_096, eval_seed=_CH07_EVAL_SEED)

PAIRS = [
    Pair("DQN (03a) vs SB3 DQN", "03_dqn", "dqn", 40_000, _course_dqn),
    Pair("A2C (05a) vs SB3 A2C", "05_actor_critic", "a2c", 100_000, _course_a2c),
    Pair("PPO (06b) vs SB3 PPO", "06_ppo", "ppo", 60_000, _course_ppo()),
    Pair("PPO (06b) vs SB3 PPO, Acrobot", "06_ppo", "ppo", 100_000, _course_ppo(PPO_ACROBOT), ACROBOT),
    Pair("PPO (06c) vs SB3 PPO, Pendulum", "06_ppo", "ppo", 100_000, _course_ppo(PPO_PENDULUM), PENDULUM_PPO),
    Pair("DDPG (07a) vs SB3 DDPG", "07_ddpg_td3_sac", "ddpg", 20_000, _course_07a("ddpg"), PENDULUM),
    Pair("TD3 (07a) vs SB3 TD3", "07_ddpg_td3_sac", "td3", 20_000, _course_07a("td3"), PENDULUM),
    Pair("SAC (07b) vs SB3 SAC", "07_ddpg_td3_sac", "sac", 20_000, _course_sac, PENDULUM),
]


# ------------------------------------------------------------------ the peer's side


def ensure_extra() -> None:
    """Install the bench extra into this environment if it is missing (once)."""
    import importlib.util
    # rl_zoo3 is installed without its dependencies, so ``import rl_zoo3`` fails (huggingface_hub):
    # only its presence counts, its hyperparameter files are all that is read
    if importlib.util.find_spec("rl_zoo3") and importlib.util.find_spec("stable_baselines3"):
        return
    pins = dict(line.split("==") for line in LOCK.read_text().split("\n")
                if "==" in line and not line.startswith("#"))
    print("installing the bench extra (Stable-Baselines3, rl_zoo3's hyperparameters) from "
          f"{LOCK.name} (once)...", flush=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run(pip + ["-c", str(REPO / "requirements.lock"), f"stable-baselines3=={pins['stable-baselines3']}"],
                   check=True)
    subprocess.run(pip + ["--no-deps", f"rl_zoo3=={pins['rl_zoo3']}"], check=True)


def zoo_hyperparameters(algo: str, env_id: str) -> dict:
    """rl-zoo's tuned hyperparameters of ``algo`` on ``env_id`` (from rl_zoo3's own YAML files)."""
    import importlib.util

    import yaml
    spec = importlib.util.find_spec("rl_zoo3")
    path = Path(spec.origin).parent / "hyperparams" / f"{algo}.yml"
    table = yaml.safe_load(path.read_text())
    if env_id not in table:
        raise KeyError(f"rl-zoo has no {algo} hyperparameters for {env_id}")
    return dict(table[env_id])


def _schedule(value):
    """rl-zoo's ``lin_<x>``: linear from x to 0 over training (SB3 passes the remaining fraction)."""
    if isinstance(value, str) and value.startswith("lin_"):
        start = float(value[4:])
        return lambda remaining: remaining * start
    return value


#: the keys rl-zoo turns into schedules (rl_zoo3.exp_manager.ExperimentManager._preprocess_schedules)
_SCHEDULED = ("learning_rate", "clip_range", "clip_range_vf", "delta_std")


def zoo_model_kwargs(hp: dict, action_space) -> tuple[int, dict | None, dict]:
    """rl-zoo's YAML entry -> ``(n_envs, VecNormalize kwargs or None, model kwargs)``, converted as
    rl_zoo3's ExperimentManager converts it: ``lin_<x>`` schedules, ``train_freq`` lists -> tuples,
    ``policy_kwargs`` (and replay-buffer kwargs) strings evaluated, ``normalize`` (bool, string or dict;
    VecNormalize gets the algorithm's gamma), ``noise_type``/``noise_std`` -> an ``action_noise``
    (NormalActionNoise or OrnsteinUhlenbeckActionNoise over the action dimension)."""
    import torch.nn as nn
    from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    hp = dict(hp)
    unsupported = {"env_wrapper", "vec_env_wrapper", "frame_stack", "callback", "env_kwargs", "monitor_kwargs"} & set(hp)
    if unsupported:
        raise NotImplementedError(f"rl-zoo entries not handled by the peer benchmark: {sorted(unsupported)}")
    n_envs = int(hp.pop("n_envs", 1))
    hp.pop("n_timesteps", None)
    python = {"__builtins__": {}, "dict": dict, "nn": nn}  # rl-zoo writes some values as Python: "dict(...)"
    normalize = hp.pop("normalize", False)
    if isinstance(normalize, str):
        normalize = eval(normalize, python)  # noqa: S307
    if normalize:
        normalize = dict(normalize) if isinstance(normalize, dict) else {}
        if "gamma" in hp:
            normalize["gamma"] = hp["gamma"]
    for key in ("policy_kwargs", "replay_buffer_kwargs"):
        if isinstance(hp.get(key), str):
            hp[key] = eval(hp[key], python)  # noqa: S307
    for key in _SCHEDULED:
        if key in hp:
            hp[key] = _schedule(hp[key])
    if isinstance(hp.get("train_freq"), list):
        hp["train_freq"] = tuple(hp["train_freq"])
    noise_type = hp.pop("noise_type", None)
    noise_std = hp.pop("noise_std", None)
    if noise_type is not None:
        n_actions = action_space.shape[0]
        noise_class = (NormalActionNoise if "normal" in noise_type else
                       OrnsteinUhlenbeckActionNoise if "ornstein-uhlenbeck" in noise_type else None)
        if noise_class is None:
            raise ValueError(f"unknown rl-zoo noise_type {noise_type!r}")
        hp["action_noise"] = noise_class(mean=np.zeros(n_actions), sigma=noise_std * np.ones(n_actions))
    return n_envs, (normalize or None), hp


def peer_run(algo: str, seed: int, protocol: Protocol, budget: int) -> Run:
    """Train Stable-Baselines3's ``algo`` with rl-zoo's hyperparameters, evaluated by the protocol.

    An evaluation is due once ``eval_every`` more environment steps have been taken; it runs at the
    next point where SB3 has finished training on the steps taken so far (the start of its next
    rollout, or the end of ``learn``), as the course's loops evaluate after their update. With
    off-policy agents that train every step (DDPG, TD3, SAC) this is exactly every ``eval_every``
    steps; PPO (8 x 32 steps per rollout) evaluates at the end of the rollout that crosses the
    multiple, as 06b's train_ppo does; DQN (train_freq 256) at the end of the 256-step chunk."""
    import stable_baselines3 as sb3
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    from course_lib.envs import make_env
    from course_lib.evaluation import evaluate

    torch.set_num_threads(1)                          # as the course's side (load_training) and compare()
    hp = zoo_hyperparameters(algo, protocol.env_id)
    policy = hp.pop("policy")
    eval_env = make_env(protocol.env_id)
    n_envs, normalize, hp = zoo_model_kwargs(hp, eval_env.action_space)
    env = make_vec_env(protocol.env_id, n_envs=n_envs, seed=seed)
    if normalize is not None:
        env = VecNormalize(env, **normalize)
    model = getattr(sb3, algo.upper())(policy, env, seed=seed, device="cpu", verbose=0, **hp)
    evals: list[tuple[int, float]] = []
    clock = {"start": time.perf_counter(), "solved": None, "next": protocol.eval_every}

    def act(obs):
        if normalize is not None:
            obs = env.normalize_obs(obs)
        return model.predict(obs, deterministic=True)[0]

    def maybe_evaluate() -> None:
        step = model.num_timesteps
        if step < clock["next"]:
            return
        clock["next"] += protocol.eval_every
        t0 = time.perf_counter()
        mean = evaluate(eval_env, act, protocol.eval_episodes, seed=protocol.eval_seed + step).mean
        evals.append((step, mean))
        clock["start"] += time.perf_counter() - t0  # evaluation time is not training time
        if clock["solved"] is None and mean >= protocol.threshold:
            clock["solved"] = (step, time.perf_counter() - clock["start"])

    class Evaluate(BaseCallback):
        def _on_rollout_start(self) -> None:
            maybe_evaluate()

        def _on_step(self) -> bool:
            return True

    model.learn(budget, callback=Evaluate())
    maybe_evaluate()                                  # the last rollout's training is done
    return Run(evals, clock["solved"], int(model.num_timesteps), time.perf_counter() - clock["start"])


# ------------------------------------------------------------------ the table


def row(course: Run, peer: Run, threshold: float) -> dict:
    """One seed's comparison: steps, seconds, their ratios (course / peer), stays-solved shares."""
    c, p = stability.summarize(course.evals, threshold, course.solved_at), stability.summarize(peer.evals, threshold, peer.solved_at)

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b
    return dict(steps=(c["steps"], p["steps"]), seconds=(c["seconds"], p["seconds"]),
                steps_ratio=ratio(c["steps"], p["steps"]), seconds_ratio=ratio(c["seconds"], p["seconds"]),
                stayed=(c["stayed"], p["stayed"]), later=(c["later"], p["later"]),
                speed=(course.steps / course.seconds if course.seconds else None,
                       peer.steps / peer.seconds if peer.seconds else None),
                kept_stayed=stability.summarize(course.kept, threshold)["stayed"] if course.kept else None)


def _fmt(x, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)


def table(label: str, rows: dict[int, dict], threshold: float) -> str:
    """A markdown table of :func:`row` per seed, with a median row."""
    t = f"{threshold:g}"
    lines = [f"**{label}** (threshold {t})", "",
             f"| seed | env steps to {t}, course / peer | ratio | training s to {t}, course / peer | ratio | "
             "stays solved, course / peer | training steps/s, course / peer |",
             "| --- | --- | --- | --- | --- | --- | --- |"]

    def line(name, r):
        return (f"| {name} | {_fmt(r['steps'][0], ',.0f')} / {_fmt(r['steps'][1], ',.0f')} | {_fmt(r['steps_ratio'], '.2f')} | "
                f"{_fmt(r['seconds'][0], '.1f')} / {_fmt(r['seconds'][1], '.1f')} | {_fmt(r['seconds_ratio'], '.2f')} | "
                f"{_fmt(r['stayed'][0], '.0%')} / {_fmt(r['stayed'][1], '.0%')} | "
                f"{_fmt(r['speed'][0], ',.0f')} / {_fmt(r['speed'][1], ',.0f')} |")
    for seed, r in rows.items():
        lines.append(line(seed, r))

    def med(values):
        values = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]
        return float(np.median(values)) if values else None
    keys = ("steps", "seconds", "stayed", "speed")
    median = {k: (med([r[k][0] for r in rows.values()]), med([r[k][1] for r in rows.values()])) for k in keys}
    median["steps_ratio"] = med([r["steps_ratio"] for r in rows.values()])
    median["seconds_ratio"] = med([r["seconds_ratio"] for r in rows.values()])
    lines.append(line("median", median))
    kept = {seed: r.get("kept_stayed") for seed, r in rows.items() if r.get("kept_stayed") is not None}
    if kept:
        lines += ["", "The course's kept network (its best evaluation's copy, played from the same fresh start states at "
                  "every evaluation) stayed solved in " + " / ".join(f"{_fmt(v, '.0%')}" for v in kept.values())
                  + f" of the later evaluations (seeds {', '.join(map(str, kept))}; median {_fmt(med(list(kept.values())), '.0%')})."]
    return "\n".join(lines)


def machine() -> str:
    """The benchmark's machine line, with the peer library's version."""
    import stable_baselines3
    from autograder.benchmark import machine as base
    return f"{base()}; torch with 1 thread, Stable-Baselines3 {stable_baselines3.__version__}"


def compare(pairs: list[Pair], seeds: list[int], budget: int | None = None, echo=print) -> dict[str, dict[int, dict]]:
    """Run every pair, seeds alternating course and peer; ``budget`` overrides the steps per run."""
    import torch
    torch.set_num_threads(1)
    os.environ.setdefault("COURSE_QUIET_LOGGER", "1")
    out = {}
    for pair in pairs:
        rows = {}
        for seed in seeds:
            steps = budget or pair.budget
            course = pair.course(seed, pair.protocol, steps)
            echo(f"{pair.label}, seed {seed}: course first at threshold "
                 f"{course.solved_at or 'never'}, {course.steps:,} steps in {course.seconds:.0f} s")
            peer = peer_run(pair.peer_algo, seed, pair.protocol, steps)
            echo(f"{pair.label}, seed {seed}: peer first at threshold "
                 f"{peer.solved_at or 'never'}, {peer.steps:,} steps in {peer.seconds:.0f} s")
            rows[seed] = row(course, peer, pair.protocol.threshold)
        out[pair.label] = rows
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./course bench --peers", description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", help="only these chapters (default: every pair)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=None, help="environment steps per run (default: full mode)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS.relative_to(REPO)})")
    args = parser.parse_args(argv)
    return run(args.chapters, args.seeds, args.budget, args.out)


def describe(pairs: list[Pair]) -> str:
    """The protocols of ``pairs`` in words, one clause per task."""
    seen = dict.fromkeys(p.protocol for p in pairs)
    return "; ".join(f"{pr.env_id}, every {pr.eval_every:,} environment steps, {pr.eval_episodes} greedy (deterministic) "
                     f"episodes from fresh start states (seeds {pr.eval_seed:,} + step + i), threshold {pr.threshold:g}"
                     for pr in seen)


def run(chapters: list[str] | None, seeds: list[int], budget: int | None = None, out: Path = RESULTS) -> int:
    """Compare the pairs of ``chapters`` (all when empty), print the tables and write them to ``out``."""
    pairs = [p for p in PAIRS if not chapters or p.chapter in chapters]
    if not pairs:
        known = sorted({p.chapter for p in PAIRS})
        print(f"course: no peer pair for {chapters}; chapters with pairs: {known}", file=sys.stderr)
        return 2
    ensure_extra()
    header = machine()
    results = compare(pairs, seeds, budget)
    text = ["# The course's agents against Stable-Baselines3 (`./course bench --peers`)", "",
            f"Machine: {header}.", "",
            f"Protocol: {describe(pairs)}; evaluation time excluded; seeds alternate course and peer; 'stays solved' = "
            "share of the evaluations after the first crossing still at the threshold."
            + (f" Budget: {budget:,} steps per run." if budget else ""), ""]
    for pair in pairs:
        text += [table(pair.label, results[pair.label], pair.protocol.threshold), ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(text))
    print("\n".join(text))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
