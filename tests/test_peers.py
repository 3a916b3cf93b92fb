"""The peer benchmark (``./course bench --peers``), tested cheaply: tiny budgets on both sides, the
table's shape and arithmetic. No timed assertions: the numbers are what the benchmark reports."""
from __future__ import annotations

import dataclasses
import math

import pytest

from autograder import peers

pytestmark = pytest.mark.slow


def test_row_arithmetic_and_table():
    course = peers.Run([(2000, 100.0), (4000, 480.0), (6000, 500.0), (8000, 300.0), (10000, 490.0)],
                       (4000, 2.0), 10_000, 5.0)
    peer = peers.Run([(2000, 480.0), (4000, 400.0), (6000, 490.0)], (2000, 4.0), 6_000, 12.0)
    r = peers.row(course, peer, 475.0)
    assert r["steps"] == (4000, 2000) and r["steps_ratio"] == 2.0
    assert r["seconds"] == (2.0, 4.0) and r["seconds_ratio"] == 0.5
    assert r["stayed"] == (2 / 3, 0.5) and r["later"] == (3, 2)
    assert r["speed"] == (2000.0, 500.0)
    never = peers.row(peers.Run([(2000, 10.0)], None, 2000, 1.0), peer, 475.0)
    assert never["steps_ratio"] is None and math.isnan(never["stayed"][0])
    text = peers.table("X vs Y", {0: r, 1: never}, 475.0)
    lines = text.splitlines()
    assert lines[0] == "**X vs Y** (threshold 475)"
    body = [ln for ln in lines if ln.startswith("| ") and not ln.startswith("| seed") and not ln.startswith("| ---")]
    assert [ln.split("|")[1].strip() for ln in body] == ["0", "1", "median"]
    assert all(ln.count("|") == 8 for ln in lines[2:])
    assert "| 0 | 4,000 / 2,000 | 2.00 | 2.0 / 4.0 | 0.50 | 67% / 50% | 2,000 / 500 |" in text
    assert "| 1 | - / 2,000 | - |" in text   # a run that never solved shows '-', not 0
    assert "kept network" not in text
    # a course run that also judged its kept network: one sentence under the table, from those evaluations
    kept = peers.Run(course.evals, course.solved_at, course.steps, course.seconds,
                     [(2000, 100.0), (4000, 480.0), (6000, 500.0), (8000, 500.0), (10000, 490.0)])
    text = peers.table("X vs Y", {0: peers.row(kept, peer, 475.0)}, 475.0)
    assert text.splitlines()[-1].endswith("stayed solved in 100% of the later evaluations (seeds 0; median 100%).")


#: a tiny budget per task: CartPole's two evaluations; Pendulum's two, and 100 updates of the course's
#: off-policy agents after their 1,000 random steps (SB3 SAC's ~1,000 updates take most of the time)
TINY = {"CartPole-v1": 1_000, "Pendulum-v1": 1_100}
RETURNS = {"CartPole-v1": (0, 500), "Pendulum-v1": (-16.3 * 200, 0)}
NEW = ("ppo", "ddpg", "td3", "sac")      # the pairs whose two sides evaluate at the same steps, same seeds


@pytest.fixture
def eval_seeds(monkeypatch):
    """Record the seed of every evaluation (course_lib's evaluate and evaluate_with_q), in order."""
    import course_lib.evaluation
    import course_lib.offpolicy
    seen = []
    for module, name in ((course_lib.evaluation, "evaluate"), (course_lib.offpolicy, "evaluate_with_q")):
        original = getattr(module, name)

        def recording(*args, _original=original, **kwargs):
            seen.append(kwargs["seed"] if "seed" in kwargs else args[4 if _original.__name__ == "evaluate_with_q" else 3])
            return _original(*args, **kwargs)
        monkeypatch.setattr(module, name, recording)
    return seen


#: one pair per algorithm runs both sides here; PPO's Acrobot and Pendulum pairs use the same two code
#: paths with other settings (tested below without the peer's long first rollouts)
BOTH_SIDES = [p for p in peers.PAIRS if not (p.peer_algo == "ppo" and p.protocol.env_id != "CartPole-v1")]


@pytest.mark.parametrize("pair", BOTH_SIDES, ids=[p.peer_algo for p in BOTH_SIDES])
def test_both_sides_train_under_one_protocol(pair, monkeypatch, eval_seeds):
    monkeypatch.setenv("COURSE_QUIET_LOGGER", "1")
    peers.ensure_extra()
    tiny = dataclasses.replace(pair.protocol, eval_every=500, eval_episodes=2)
    budget, (low, high) = TINY[tiny.env_id], RETURNS[tiny.env_id]
    course = pair.course(0, tiny, budget)
    course_seeds = list(eval_seeds)
    peer = peers.peer_run(pair.peer_algo, 0, tiny, budget)
    peer_seeds = eval_seeds[len(course_seeds):]
    for run in (course, peer):
        assert run.steps >= budget and run.seconds > 0
        assert run.evals[0][0] >= 500 and all(b[0] > a[0] for a, b in zip(run.evals, run.evals[1:]))
        assert len(run.evals) >= 2 and all(low <= v <= high for _, v in run.evals)
    if pair.peer_algo in NEW:
        # one schedule (PPO: the ends of the 256-step rollouts that cross 500, 1,000; Pendulum: 500, 1,000) and
        # fresh start states on both sides: the evaluation at step t starts from eval_seed + t
        steps = [s for s, _ in course.evals]
        assert steps == [s for s, _ in peer.evals] == ([512, 1024] if tiny.env_id == "CartPole-v1" else [500, 1000])
        assert course_seeds == peer_seeds == [tiny.eval_seed + s for s in steps]
    # the table of this pair: shape and arithmetic
    r = peers.row(course, peer, tiny.threshold)
    for side, run in enumerate((course, peer)):
        first = next((s for s, v in run.evals if v >= tiny.threshold), None)
        assert r["steps"][side] == first
        assert r["speed"][side] == pytest.approx(run.steps / run.seconds)
    expected = None if None in r["steps"] else r["steps"][0] / r["steps"][1]
    assert r["steps_ratio"] == expected
    lines = peers.table(pair.label, {0: r}, tiny.threshold).splitlines()
    assert lines[0] == f"**{pair.label}** (threshold {tiny.threshold:g})"
    rows = [ln for ln in lines[2:] if ln.startswith("|")]
    assert [ln.split("|")[1].strip() for ln in rows[2:]] == ["0", "median"]
    assert all(ln.count("|") == 8 for ln in rows)
    # 03a's DQN and 05a's A2C also report their kept network (the best checkpoint), judged at every evaluation
    assert (course.kept is not None) == (pair.peer_algo in ("dqn", "a2c"))
    if course.kept is not None:
        assert [s for s, _ in course.kept] == [s for s, _ in course.evals] and "kept network" in lines[-1]


def test_ppo_on_acrobot_and_pendulum_trains_with_the_notebooks_settings_and_the_peers_zoo_entries(eval_seeds):
    """The course side of PPO's other pairs: the notebooks' settings, the protocol's evaluation seeds; the
    peer side: rl-zoo's entries for the task (VecNormalize on Acrobot, gSDE on Pendulum)."""
    from gymnasium.spaces import Box, Discrete

    by_env = {p.protocol.env_id: p for p in peers.PAIRS if p.peer_algo == "ppo"}
    acrobot, pendulum = by_env["Acrobot-v1"], by_env["Pendulum-v1"]
    for pair, rollout in ((acrobot, 16 * 128), (pendulum, 8 * 256)):
        tiny = dataclasses.replace(pair.protocol, eval_every=rollout, eval_episodes=1)
        eval_seeds.clear()
        run = pair.course(0, tiny, rollout)
        assert [s for s, _ in run.evals] == [rollout] and eval_seeds == [tiny.eval_seed + rollout]
        low, high = (-500, 0) if tiny.env_id == "Acrobot-v1" else (-16.3 * 200, 0)
        assert low <= run.evals[0][1] <= high
    peers.ensure_extra()
    n_envs, normalize, hp = peers.zoo_model_kwargs(peers.zoo_hyperparameters("ppo", "Acrobot-v1"), Discrete(3))
    assert n_envs == 16 and normalize is not None and hp["n_steps"] == 256
    n_envs, normalize, hp = peers.zoo_model_kwargs(peers.zoo_hyperparameters("ppo", "Pendulum-v1"), Box(-2.0, 2.0, (1,)))
    assert n_envs == 4 and hp["use_sde"] is True and normalize is None and hp["gamma"] == 0.9


def test_pendulum_pairs_evaluate_from_the_protocol_seeds(monkeypatch, eval_seeds):
    """Chapter 7 seeds its evaluations 100,000 + t: another eval_seed reaches them through peers' remap."""
    monkeypatch.setenv("COURSE_QUIET_LOGGER", "1")
    tiny = peers.Protocol("Pendulum-v1", -200.0, eval_every=300, eval_episodes=1, eval_seed=123)
    run = peers._course_07a("ddpg")(0, tiny, 600)
    assert [s for s, _ in run.evals] == [300, 600] and eval_seeds == [423, 723]


def test_zoo_hyperparameters_converted_as_rl_zoo_does():
    from gymnasium.spaces import Box
    from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    peers.ensure_extra()
    box = Box(-2.0, 2.0, shape=(3,))
    n_envs, normalize, hp = peers.zoo_model_kwargs(peers.zoo_hyperparameters("ddpg", "Pendulum-v1"), box)
    assert n_envs == 1 and normalize is None and "noise_type" not in hp and "noise_std" not in hp
    assert isinstance(hp["action_noise"], NormalActionNoise)
    assert hp["action_noise"]._sigma.tolist() == [0.1] * 3 and hp["action_noise"]._mu.tolist() == [0.0] * 3
    assert hp["policy_kwargs"] == {"net_arch": [400, 300]} and hp["train_freq"] == 1 and hp["gradient_steps"] == 1
    _, _, hp = peers.zoo_model_kwargs({"policy": "MlpPolicy", "noise_type": "ornstein-uhlenbeck", "noise_std": 0.5,
                                       "train_freq": [1, "episode"]}, box)
    assert isinstance(hp["action_noise"], OrnsteinUhlenbeckActionNoise) and hp["train_freq"] == (1, "episode")
    n_envs, _, hp = peers.zoo_model_kwargs(peers.zoo_hyperparameters("ppo", "CartPole-v1"), box)
    assert n_envs == 8 and hp["learning_rate"](1.0) == 0.001 and hp["clip_range"](0.5) == pytest.approx(0.1)
    assert hp["n_steps"] == 32 and hp["batch_size"] == 256 and "n_timesteps" not in hp
    n_envs, normalize, hp = peers.zoo_model_kwargs(peers.zoo_hyperparameters("a2c", "Pendulum-v1"), box)
    assert n_envs == 8 and normalize == {"gamma": 0.9} and hp["policy_kwargs"] == {"log_std_init": -2, "ortho_init": False}
    _, normalize, _ = peers.zoo_model_kwargs({"normalize": "dict(norm_obs=True, norm_reward=False)", "gamma": 0.95}, box)
    assert normalize == {"norm_obs": True, "norm_reward": False, "gamma": 0.95}
    assert peers.zoo_hyperparameters("sac", "Pendulum-v1")["learning_rate"] == 0.001


def test_run_writes_the_table(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_QUIET_LOGGER", "1")
    out = tmp_path / "peers.md"
    assert peers.run(["03_dqn"], [0], budget=600, out=out) == 0
    text = out.read_text()
    assert "Machine:" in text and "DQN (03a) vs SB3 DQN" in text and "| median |" in text
    assert "CartPole-v1, every 2,000 environment steps" in text and "Pendulum-v1" not in text
    assert peers.run(["01_intro"], [0], budget=600, out=out) == 2
