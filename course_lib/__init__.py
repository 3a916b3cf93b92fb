"""Helpers for the Deep RL Workbook's chapter notebooks.

Small modules, each named for what it holds:

- ``config``     fast mode (``COURSE_FAST=1``), device choice, seeding
- ``hyperparams`` typed hyperparameters: a frozen dataclass per training function, changes checked
- ``envs``       make and seed environments, the course's grid world, tabular models of toy-text envs
- ``plots``      learning curves over seeds, value heatmaps with greedy-policy arrows
- ``video``      record an episode and show it inline as an animated image (no ffmpeg)
- ``widgets``    slider panels with a Run button, a progress bar and a redrawn plot
- ``evaluation`` run N episodes of a policy, mean and spread of the returns
- ``networks``   the actor-critic and Q-networks of chapter 5 (orthogonal initialisation)
- ``shared_optim`` Adam and RMSprop with their statistics in shared memory (Hogwild! updates, A3C)
- ``portable``   a notebook function sent to worker processes as source code (spawn, forkserver)
- ``workers``    run a function in worker processes, crashes reported, no process left behind
- ``paths``      grid maps and the paths agents walk on them
- ``reuse``      take names from another notebook (your answers, the helpers it exports), source kept
- ``logger``     a progress-aware training-loop logger with a live curve, a training clock, runs on disk
- ``runs``       run folders on disk: configuration, progress table of metrics, status, final model
- ``diagnostics`` the practitioner's panel of one run: return, losses, entropy, KL, gradient norm
- ``grid``       a hyperparameter grid times seeds in worker processes, resumable
- ``watch``      load a saved agent and show an episode (or write a GIF)
- ``reference_curves`` the instructor's solution curves shipped with the release, drawn as a band
- ``experiments`` the command line behind ./course plot, run and watch
- ``restart_help`` after a kernel restart, says which earlier cell defines a missing name
- ``checks``     the visible checks' helpers: shape, type and closeness with clear messages
- ``doctor``     prints the versions that matter and says what is wrong

Nothing here is the answer to an exercise.
"""
import os as _os

# pygame (pulled in by gymnasium's renderers) greets on import; keep notebook outputs clean.
_os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# rgb_array rendering needs no window; without a display SDL would complain on stderr.
if not (_os.environ.get("DISPLAY") or _os.environ.get("WAYLAND_DISPLAY")):
    _os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from .config import FAST, device, fast_mode, pick, seed_everything  # noqa: E402

__all__ = ["FAST", "device", "fast_mode", "pick", "seed_everything"]
__version__ = "0.1.0"
