"""Notebook 07c's claims that do not need training: the broadcast identity of section 1, the hidden
checks' treatment of shapes that broadcast, and the saved comparison runs of section 4."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from autograder.verdict import extract
from course_lib.reference_curves import read_reference_curve

CURVES = Path(__file__).resolve().parents[1] / "notebooks" / "07_ddpg_td3_sac" / "reference_curves"


def test_the_broadcast_loss_is_the_regression_on_the_batch_mean_plus_the_targets_variance():
    g = torch.Generator().manual_seed(0)
    q, y = torch.randn(17, 1, generator=g), torch.randn(17, generator=g)
    broadcast = ((q - y) ** 2).mean()
    identity = ((q.squeeze(-1) - y.mean()) ** 2).mean() + y.var(unbiased=False)
    assert torch.allclose(broadcast, identity, atol=1e-6)
    assert (q - y).shape == (17, 17)


def test_the_reference_critic_loss_refuses_every_shape_mismatch_and_names_both_shapes():
    ns = extract.namespace(extract.source("07_ddpg_td3_sac"))
    for q_shape, y_shape in [((4, 1), (4,)), ((4,), (4, 1)), ((1, 1), (1,)), ((4, 2), (4,))]:
        try:
            ns["critic_loss"](torch.zeros(q_shape, requires_grad=True), torch.zeros(y_shape))
        except ValueError as err:
            assert str(q_shape) in str(err) and str(y_shape) in str(err)
        else:
            raise AssertionError(f"{q_shape} against {y_shape} was accepted")
    assert float(ns["critic_loss"](torch.ones(3, 1), torch.zeros(3, 1))) == 1.0


def test_the_comparison_runs_are_saved_for_each_algorithm_with_their_seeds_and_seconds():
    for algo in ("ddpg", "td3", "sac"):
        curve = read_reference_curve(CURVES / f"07c_comparison.{algo}.csv")
        assert curve.n_seeds >= 2, f"{algo}: {curve.n_seeds} seeds"
        seconds = curve.info["training_seconds"].split()
        assert len(seconds) == curve.n_seeds and all(float(s) > 0 for s in seconds)
        assert np.all(curve.low <= curve.mean + 1e-6) and np.all(curve.mean <= curve.high + 1e-6)
        assert curve.x[-1] >= 9_000, f"{algo}: the runs end at {curve.x[-1]} steps"
