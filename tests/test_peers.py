"""The peer benchmark (``./course bench --peers``), tested cheaply: tiny budgets on both sides, the
table's shape and arithmetic. No timed assertions: the numbers are what the benchmark reports."""
from __future__ import annotations

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


def test_both_sides_train_under_one_protocol(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_QUIET_LOGGER", "1")
    peers.ensure_extra()
    tiny = peers.Protocol(eval_every=500, eval_episodes=2)
    for pair in peers.PAIRS:
        course = pair.course(0, tiny, 1_000)
        peer = peers.peer_run(pair.peer_algo, 0, tiny, 1_000)
        for run in (course, peer):
            assert run.steps >= 1_000 and run.seconds > 0
            assert run.evals[0][0] >= 500 and all(b[0] > a[0] for a, b in zip(run.evals, run.evals[1:]))
            assert len(run.evals) >= 2 and all(0 <= v <= 500 for _, v in run.evals)
    out = tmp_path / "peers.md"
    assert peers.run(["03_dqn"], [0], budget=600, out=out) == 0
    text = out.read_text()
    assert "Machine:" in text and "DQN (03a) vs SB3 DQN" in text and "| median |" in text
    assert peers.run(["01_intro"], [0], budget=600, out=out) == 2
