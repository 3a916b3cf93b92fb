"""Notebook 06c's claims that need no long training: the Gaussian head's log-probability and entropy of
section 1, the saved lab runs that sections 3 and 4 plot, and the script that writes them (on a tiny budget,
into a temporary folder)."""
from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from course_lib.policies import GaussianPolicy, policy_distribution
from course_lib.reference_curves import read_reference_curve

CHAPTER = Path(__file__).resolve().parents[1] / "notebooks" / "06_ppo"
CURVES = CHAPTER / "reference_curves"


def _notebook_variants() -> dict:
    """The VARIANTS dict of the notebook's lab cell (what section 4 plots), plus the baselines."""
    nb = json.loads((CHAPTER / "06c_details_continuous.ipynb").read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("VARIANTS = "):
            node = ast.parse(source).body[0]
            return {task: ["baseline", *names] for task, names in ast.literal_eval(node.value).items()}
    raise AssertionError("06c has no VARIANTS cell")


def test_the_gaussian_log_prob_sums_the_dimensions_and_the_entropy_is_half_log_2_pi_e_sigma2():
    torch.manual_seed(0)
    pol = GaussianPolicy(nn.Linear(3, 2), action_dim=2)
    with torch.no_grad():
        pol.log_std.copy_(torch.tensor([math.log(0.5), math.log(2.0)]))
    obs, actions = torch.randn(5, 3), torch.randn(5, 2) * 2
    dist = policy_distribution(pol, obs)
    with torch.no_grad():
        mu, sigma = pol(obs), pol.log_std.exp()
        by_hand = (-0.5 * ((actions - mu) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)).sum(-1)
        assert dist.log_prob(actions).shape == (5,)
        assert torch.allclose(dist.log_prob(actions), by_hand, atol=1e-5)
        entropy = (0.5 * torch.log(2 * math.pi * math.e * sigma ** 2)).sum()
        assert torch.allclose(dist.entropy(), entropy.expand(5), atol=1e-5)
    assert abs(0.5 * math.log(2 * math.pi * math.e) - 1.4189) < 1e-4   # the notebook's "1.419 nats at sigma = 1"


def test_every_lab_curve_the_notebook_plots_is_saved_with_three_seeds_and_their_evaluations():
    for task, variants in _notebook_variants().items():
        for variant in variants:
            path = CURVES / f"06c_{task}.{variant}.csv"
            assert path.exists(), f"{path.name} is missing (python -m autograder.ch06_lab_runs --tasks {task} " \
                                  f"--variants {variant})"
            curve = read_reference_curve(path)
            assert curve.n_seeds >= 3, f"{path.name}: {curve.n_seeds} seeds"
            assert np.all(curve.low <= curve.mean + 1e-6) and np.all(curve.mean <= curve.high + 1e-6)
            evals = [k for k in curve.info if k.startswith("evals_seed")]
            assert len(evals) == curve.n_seeds == len(curve.info["training_seconds"].split())
            for key in evals:
                rows = [item.split(":") for item in curve.info[key].split()]
                assert len(rows) >= 10 and all(len(r) == 3 for r in rows), f"{path.name} {key}"


def test_the_script_writes_a_curve_per_task_and_variant_on_a_tiny_budget(tmp_path, monkeypatch):
    from autograder import ch06_lab_runs

    monkeypatch.setenv("COURSE_FAST", "0")             # the script sets both: restore them after the test
    monkeypatch.setenv("COURSE_QUIET_LOGGER", "1")

    assert ch06_lab_runs.main(["--seeds", "0", "--variants", "baseline", "trunc_terminal", "--tasks", "pendulum",
                               "--steps", "512", "--eval-episodes", "1", "--out", str(tmp_path)]) == 0
    assert ch06_lab_runs.main(["--seeds", "0", "--variants", "epochs1", "--tasks", "cartpole",
                               "--steps", "512", "--eval-episodes", "1", "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["06c_cartpole.epochs1.csv", "06c_pendulum.baseline.csv", "06c_pendulum.trunc_terminal.csv"]
    bug = read_reference_curve(tmp_path / "06c_pendulum.trunc_terminal.csv")
    assert bug.n_seeds == 1 and "bootstrap_truncated" in bug.info["change"] and bug.info["evals_seed0"]
    assert "'epochs': 1" in read_reference_curve(tmp_path / "06c_cartpole.epochs1.csv").info["settings"]


def test_the_labs_edits_of_ppo_update_switch_off_advantage_normalisation_and_clip_the_values():
    """The two details inside the graded ppo_update are switched by editing a copy of the reference; on one
    minibatch step, the edit changes the losses it names and nothing it does not."""
    from collections import namedtuple

    from torch import nn

    from autograder import ch06_lab_runs
    from autograder.verdict import extract

    reference = extract.namespace(extract.source("06_ppo"))
    Batch = namedtuple("Batch", ["obs", "actions", "logp_old", "advantages", "returns"])

    def one_step(update):
        torch.manual_seed(0)
        pol, val = nn.Linear(3, 2), nn.Linear(3, 1)
        obs = torch.randn(8, 3)
        with torch.no_grad():
            actions = torch.distributions.Categorical(logits=pol(obs)).sample()
            logp = torch.log_softmax(pol(obs), -1).gather(-1, actions[:, None]).squeeze(-1)
        batch = Batch(obs, actions, logp, torch.randn(8) * 5 + 3, torch.randn(8) * 5)
        return update(pol, val, torch.optim.SGD(pol.parameters(), lr=0.1), torch.optim.SGD(val.parameters(), lr=0.1),
                      batch, np.random.default_rng(0), epochs=1, minibatch_size=8, clip=0.2)

    base = one_step(reference["ppo_update"])
    no_norm = one_step(ch06_lab_runs.edited_update(reference, "no_adv_norm"))
    clipped = one_step(ch06_lab_runs.edited_update(reference, "value_clip"))
    assert no_norm["value_loss"] == base["value_loss"] and no_norm["policy_loss"] != base["policy_loss"]
    # returns - advantages (the values at collection) are far from V(obs) here, so the clipped loss, the larger
    # of two squared errors, is above the plain one
    assert clipped["policy_loss"] == base["policy_loss"] and clipped["value_loss"] > base["value_loss"]
