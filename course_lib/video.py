"""Agent videos inline in a notebook: record ``rgb_array`` frames, show them as an animated GIF.

No ffmpeg is needed: frames are encoded with Pillow and embedded as a base64 ``<img>``.
"""
from __future__ import annotations

import base64
import io
from typing import Callable, Sequence

import numpy as np
from PIL import Image


def record_episode(env, policy: Callable, seed: int | None = None, max_steps: int = 500):
    """Run one episode of ``policy`` in ``env`` (made with ``render_mode="rgb_array"``).

    Args:
        policy: maps an observation to an action.
        seed: passed to ``env.reset``.
    Returns:
        ``(frames, total_reward)``: a list of ``(H, W, 3)`` uint8 frames (first and last included)
        and the undiscounted return.
    """
    if getattr(env, "render_mode", None) != "rgb_array":
        raise ValueError("record_episode needs an env made with render_mode='rgb_array', "
                         f"got render_mode={getattr(env, 'render_mode', None)!r}")
    obs, _ = env.reset(seed=seed)
    frames, total = [env.render()], 0.0
    for _ in range(max_steps):
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += float(reward)
        frames.append(env.render())
        if terminated or truncated:
            break
    return frames, total


def gif_bytes(frames: Sequence[np.ndarray], fps: int = 30, max_width: int = 400) -> bytes:
    """Encode ``(H, W, 3)`` uint8 frames as an animated GIF (looping), scaled to ``max_width``."""
    if len(frames) == 0:
        raise ValueError("no frames to encode")
    images = []
    for f in frames:
        img = Image.fromarray(np.asarray(f, dtype=np.uint8))
        if img.width > max_width:
            img = img.resize((max_width, round(img.height * max_width / img.width)))
        images.append(img)
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(20, round(1000 / fps)), loop=0)
    return buf.getvalue()


def show_video(frames: Sequence[np.ndarray], fps: int = 30, caption: str = "", max_width: int = 400) -> None:
    """Display ``(H, W, 3)`` uint8 frames inline as a looping animated image."""
    from IPython.display import HTML, display

    data = base64.b64encode(gif_bytes(frames, fps, max_width)).decode("ascii")
    html = HTML(f'<figure style="margin:0"><img src="data:image/gif;base64,{data}" '
                f'alt="agent video"/><figcaption>{caption}</figcaption></figure>')
    display(html)
