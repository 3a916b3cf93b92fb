"""Watch a saved agent: load a run's policy and play one episode, inline or as a GIF file.

    watch("runs/03a_dqn/dqn/seed0")                       # in a notebook: the episode inline
    watch("runs/03a_dqn/dqn/seed0", gif="dqn.gif")        # write a GIF (what `./course watch` does)

The run folder must hold ``policy.pt2`` (``TrainingLogger.save_model(model, example_obs)`` writes
it): a torch.export program, so the notebook's network class is not needed to load it. The
environment is the run's ``config.json`` ``env_id``. Actions are greedy: the argmax of the model's
first output (Q-values, or a policy's logits), for discrete action spaces.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .runs import POLICY_FILE, read_run


def load_policy(run_dir: str | Path) -> Callable[[np.ndarray], int]:
    """The greedy policy (observation ``(obs_dim,)`` -> action) of the model saved in a run folder."""
    import torch

    path = Path(run_dir) / POLICY_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: save the model with "
                                "log.save_model(model, example_obs) to watch it later")
    model = torch.export.load(path).module()

    def policy(obs) -> int:
        with torch.no_grad():
            out = model(torch.as_tensor(np.asarray(obs), dtype=torch.float32).unsqueeze(0))
            scores = out[0] if isinstance(out, (tuple, list)) else out
            return int(scores.reshape(-1).argmax())

    return policy


def watch(run_dir: str | Path, seed: int = 0, max_steps: int = 500, env_id: str | None = None,
          gif: str | Path | None = None, fps: int = 30, show: bool = True) -> float:
    """Play one greedy episode of a run's saved agent; show it inline, and/or write it to ``gif``.

    Returns the episode's return.
    """
    from .envs import make_env
    from .video import gif_bytes, record_episode, show_video

    run = read_run(run_dir)
    env_id = env_id or run.config.get("env_id")
    if not env_id:
        raise ValueError(f"{run_dir}/config.json names no env_id; pass env_id=...")
    env = make_env(env_id, render_mode="rgb_array")
    frames, total = record_episode(env, load_policy(run_dir), seed=seed, max_steps=max_steps)
    env.close()
    if gif is not None:
        Path(gif).parent.mkdir(parents=True, exist_ok=True)
        Path(gif).write_bytes(gif_bytes(frames[::2], fps=fps // 2 or 1))
    if show:
        show_video(frames[::2], fps=fps // 2 or 1, caption=f"{run.experiment}/{run.variant}/{run.seed}: return {total:.0f}")
    return total
