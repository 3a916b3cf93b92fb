"""Unit tests of course_lib, with expectations computed by hand."""
from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from course_lib import checks, config
from course_lib.envs import SOLVED_RETURN, GridWorld, make_env, tabular_model
from course_lib.evaluation import evaluate
from course_lib.plots import plot_learning_curves, plot_values, smooth
from course_lib.video import gif_bytes, record_episode

REPO = Path(__file__).resolve().parents[1]

matplotlib.use("Agg")


# ------------------------------------------------------------------ config
def test_fast_mode_follows_env(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("COURSE_FAST", "1")
    assert config.fast_mode() and config.pick(1, 2) == 1
    monkeypatch.setenv("COURSE_FAST", "0")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert not config.fast_mode(), "COURSE_FAST=0 forces full mode even under nbgrader"
    monkeypatch.delenv("COURSE_FAST")
    assert config.fast_mode(), "nbgrader execution implies fast mode"
    monkeypatch.delenv("NBGRADER_EXECUTION")
    assert not config.fast_mode() and config.pick(1, 2) == 2


# ------------------------------------------------------------------ envs
def test_make_env_seeds_reproducibly():
    a, b = make_env("CartPole-v1", seed=3), make_env("CartPole-v1", seed=3)
    assert [a.action_space.sample() for _ in range(20)] == [b.action_space.sample() for _ in range(20)]
    np.testing.assert_array_equal(a.reset()[0], b.reset()[0])


def test_make_env_unknown_id_names_close_match():
    with pytest.raises(ValueError, match="CartPole-v1"):
        make_env("CartPol-v1")


def test_solved_returns_are_gymnasiums_where_it_has_one():
    import gymnasium as gym
    assert SOLVED_RETURN["CartPole-v1"] == gym.spec("CartPole-v1").reward_threshold == 475
    assert SOLVED_RETURN["Acrobot-v1"] == gym.spec("Acrobot-v1").reward_threshold == -100
    assert gym.spec("Pendulum-v1").reward_threshold is None, "Pendulum's -200 is the course's, say so if this changes"
    assert SOLVED_RETURN["Pendulum-v1"] == -200


def test_gridworld_passes_gymnasium_checker():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(GridWorld(slip=0.2), skip_render_check=True)
        check_env(make_env("course/GridWorld-v0", render_mode="rgb_array").unwrapped)


def test_gridworld_dynamics_by_hand():
    env = GridWorld(["S.G", "H.."], slip=0.0)
    s, _ = env.reset(seed=0)
    assert s == 0
    assert env.step(2)[:4] == (1, 0.0, False, False)          # right onto floor
    assert env.step(2)[:4] == (2, 1.0, True, False)           # right onto the goal
    env.reset()
    assert env.step(1)[:4] == (3, 0.0, True, False)           # down into the hole
    env = GridWorld(["S#G"], slip=0.0)
    env.reset(seed=0)
    assert env.step(2)[0] == 0, "a wall leaves the agent in place"


def test_gridworld_slip_splits_perpendicular():
    env = GridWorld(["...", ".S.", "..."], slip=0.4)
    P, R, terminal = tabular_model(env)
    # from the centre (4), 'right' goes right (5) with 0.6, up (1) and down (7) with 0.2 each
    np.testing.assert_allclose(P[4, 2, [5, 1, 7]], [0.6, 0.2, 0.2])
    np.testing.assert_allclose(P.sum(axis=2), 1.0)
    assert not terminal.any() and np.all(R == 0)


def test_tabular_model_frozenlake():
    env = make_env("FrozenLake-v1", is_slippery=False)
    P, R, terminal = tabular_model(env)
    assert P.shape == (16, 4, 16) and R.shape == (16, 4)
    assert sorted(np.flatnonzero(terminal)) == [5, 7, 11, 12, 15]
    assert P[14, 2, 15] == 1.0 and R[14, 2] == 1.0                   # right from 14 reaches the goal


def test_registered_gridworld_has_time_limit():
    env = make_env("course/GridWorld-v0", seed=0, desc=["S..", "...", "..G"])
    env.reset(seed=0)
    for i in range(100):
        _, _, terminated, truncated, _ = env.step(3)                  # bump into the top wall forever
        if truncated:
            break
    assert (i, terminated, truncated) == (99, False, True)


# ------------------------------------------------------------------ evaluation, video
def test_evaluate_counts_returns_by_hand():
    env = GridWorld(["S.G"], slip=0.0)
    result = evaluate(env, lambda s: 2, n_episodes=3)
    assert result.mean == 1.0 and result.std == 0.0 and list(result.lengths) == [2, 2, 2]


def test_record_episode_and_gif():
    env = GridWorld(["S.G"], render_mode="rgb_array")
    frames, total = record_episode(env, lambda s: 2, seed=0)
    assert len(frames) == 3 and total == 1.0 and frames[0].shape == (48, 144, 3)
    data = gif_bytes(frames, fps=5)
    assert data[:6] == b"GIF89a"


def test_record_episode_needs_rgb_array():
    with pytest.raises(ValueError, match="rgb_array"):
        record_episode(GridWorld(), lambda s: 0)


# ------------------------------------------------------------------ plots
def test_smooth_by_hand():
    np.testing.assert_allclose(smooth(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1.0, 2.0, 4.0, 6.0])


def test_plots_draw_bands_and_arrows():
    ax = plot_learning_curves({"a": np.array([[0, 1, 2], [2, 3, 4]])}, threshold=3)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [1, 2, 3])              # the mean of two seeds
    assert len(ax.collections) == 1                                      # one spread band
    ax = plot_values(np.arange(4.0), (2, 2), policy=np.array([2, 1, 0, 3]), desc=["S.", ".G"])
    assert len(ax.patches) == 3                                          # no arrow on the goal
    with pytest.raises(ValueError, match=r"\(4,\)"):
        plot_values(np.arange(5.0), (2, 2))


# ------------------------------------------------------------------ checks
def test_check_shape_names_broadcast_bug():
    with pytest.raises(AssertionError, match=r"expected shape \(4,\), got \(4, 1\).*broadcasts"):
        checks.check_shape(np.zeros((4, 1)), (4,), "x")


def test_check_close_names_known_mistake():
    with pytest.raises(AssertionError, match="off by one"):
        checks.check_close(0.75, 1.5, "G", mistakes={"off by one": 0.75})
    with pytest.raises(AssertionError, match=r"expected 1\.5, got 2"):
        checks.check_close(2.0, 1.5, "G")
    checks.check_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-9]), "ok")


def test_checks_survive_rebound_numpy(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "array", lambda *a, **k: 0.0)
    monkeypatch.setattr(np, "asarray", lambda *a, **k: 0.0)
    with pytest.raises(AssertionError, match="expected"):
        checks.check_close(np.ones(3), np.zeros(3), "x")
    assert not checks.is_close([1.0], [2.0])
    assert not checks.is_close([float("nan")], [float("nan")])


def test_checks_accept_torch():
    import torch
    checks.check_close(torch.tensor([1.0, 2.0], requires_grad=True) * 1, [1.0, 2.0], "t")


# ------------------------------------------------------------------ no reference for students
def test_course_lib_has_no_reference_loader():
    """Hidden checks run in the grader's process: the installed package has no way to a reference."""
    import importlib.util
    assert importlib.util.find_spec("course_lib.grading") is None


def test_doctor_reports_missing_env_id(capsys):
    from course_lib.doctor import doctor
    problems = doctor(env_ids=("CartPole-v1", "CartPol-v9"), lab=False)
    assert any("CartPol-v9" in p and "CartPole" in p for p in problems)
    assert "problem" in capsys.readouterr().out


def test_doctor_reads_lab_extension_listing():
    from course_lib.doctor import lab_extension_problems
    good = ("JupyterLab v4.6.6\n  @jupyter/nbgrader v0.9.6 \x1b[32menabled\x1b[0m \x1b[32mOK\x1b[0m\n"
            "  @jupyter-widgets/jupyterlab-manager v5.0.16 enabled OK (python, jupyterlab_widgets)\n")
    assert lab_extension_problems(good) == []
    bad = "JupyterLab v4.6.6\n  @jupyter/nbgrader v0.9.6 disabled OK\n"
    problems = lab_extension_problems(bad)
    assert any("@jupyter/nbgrader is not enabled" in p for p in problems)
    assert any("jupyterlab-manager is not installed" in p for p in problems)


def test_doctor_flags_wrong_torch(monkeypatch):
    from course_lib import doctor
    monkeypatch.setattr(doctor, "_installed", lambda name: "2.5.0+cu121" if name == "torch" else None)
    assert "pinned to 2.13.0" in doctor.check_torch()[0]
    assert "is missing" in doctor.check_packages({"numpy": "2.4.6"})[0]


def test_slider_specs_tuple_is_slider_list_is_options():
    import ipywidgets as w
    from course_lib.widgets import SliderPanel
    panel = SliderPanel(lambda progress, **kw: kw, {"lr": (0.1, 1.0, 0.1, 0.5), "n": (1, 9, 1, 3),
                                                    "size": [100_000, 1_000, 5_000, 20_000]})
    assert isinstance(panel.controls["lr"], w.FloatSlider) and isinstance(panel.controls["n"], w.IntSlider)
    assert isinstance(panel.controls["size"], w.Dropdown) and panel.values["size"] == 100_000
    assert panel.run() == {"lr": 0.5, "n": 3, "size": 100_000} and panel.runs == 1


def test_reuse_loads_exercises_and_exports_only(tmp_path, monkeypatch):
    import nbformat
    from course_lib.reuse import load_notebook, use_from
    nb = nbformat.v4.new_notebook()
    a = nbformat.v4.new_code_cell("X = 3\nprint(1)\ndef f(x):\n    return x + X\nf(2)")
    a.metadata["nbgrader"] = {"solution": True, "grade_id": "f"}
    b = nbformat.v4.new_code_cell("def g():\n    return 1\nY = g() + undefined_name\nZ = 5")
    b.metadata["tags"] = ["export"]
    c = nbformat.v4.new_code_cell("def h(:")
    c.metadata["nbgrader"] = {"solution": True, "grade_id": "h"}
    nb.cells = [a, b, c, nbformat.v4.new_code_cell("def skipped(): pass")]
    nbformat.write(nb, tmp_path / "x.ipynb")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning) as seen:                # a broken statement costs only its own names
        ns = load_notebook("x.ipynb")
    messages = " | ".join(str(w.message) for w in seen)
    assert "x.ipynb cell 2: SyntaxError" in messages and "x.ipynb cell 1, line 3: NameError" in messages
    assert ns["f"](1) == 4 and ns["g"]() == 1 and ns["Z"] == 5
    assert "skipped" not in ns and "Y" not in ns and "h" not in ns
    with pytest.warns(UserWarning):
        f, g = use_from("x.ipynb", "f", "g")
    assert (f(1), g()) == (4, 1)
    with pytest.warns(UserWarning), pytest.raises(LookupError, match=r"defines no 'skipped'.*\(those define X, f, g, Z\)"):
        use_from("x.ipynb", "skipped")                     # a cell neither exercise nor export does not run
    with pytest.warns(UserWarning), pytest.raises(LookupError, match="Y of x.ipynb could not be loaded: x.ipynb cell 1, "
                                                                     "line 3: NameError"):
        use_from("x.ipynb", "Y")
    with pytest.raises(TypeError, match="name what you take"):
        use_from("x.ipynb")


def test_use_from_takes_answers_of_another_notebook_with_its_imports(tmp_path, monkeypatch):
    import nbformat
    from course_lib.reuse import use_from
    nb = nbformat.v4.new_notebook()
    imports = nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np\nimport math as m\nprint('not run')")
    ans = nbformat.v4.new_code_cell("def gae(x):\n    return np.asarray(x) * m.pi\ngae(1)")
    ans.metadata["nbgrader"] = {"solution": True, "grade_id": "gae"}
    todo = nbformat.v4.new_code_cell("def later(x):\n    raise NotImplementedError()")
    todo.metadata["nbgrader"] = {"solution": True, "grade_id": "later"}
    helper = nbformat.v4.new_code_cell("def helper():\n    return gae(1)")
    helper.metadata["tags"] = ["export"]
    given = nbformat.v4.new_code_cell("def given():\n    return 1\nraise SystemExit('a given cell never runs')")
    nb.cells = [imports, ans, todo, helper, given]
    (tmp_path / "04").mkdir()
    (tmp_path / "06").mkdir()
    nbformat.write(nb, tmp_path / "04" / "a.ipynb")
    monkeypatch.chdir(tmp_path / "06")
    gae = use_from("../04/a.ipynb", "gae")
    assert np.allclose(gae([1.0, 2.0]), [np.pi, 2 * np.pi])
    assert "gae" not in globals()                          # a namespace of its own: nothing here is overwritten
    with pytest.raises(NotImplementedError):            # not written yet: raises when called, as in its notebook
        use_from("../04/a.ipynb", "later")(1)
    helper, gae = use_from("../04/a.ipynb", "helper", "gae")     # export cells are handed on too
    assert helper() == gae(1) == pytest.approx(np.pi) and helper.__globals__ is gae.__globals__
    with pytest.raises(LookupError, match="defines no 'given'"):
        use_from("../04/a.ipynb", "given")
    with pytest.raises(FileNotFoundError, match="side by side"):
        use_from("../05/a.ipynb", "gae")
    with pytest.raises(FileNotFoundError, match="keep the chapter's notebooks together"):
        use_from("b.ipynb", "gae")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")   # graded alone: the message says what stops and why
    with pytest.raises(FileNotFoundError, match=r"grades each chapter on its own\), so the cells that use your gae"):
        use_from("../05/a.ipynb", "gae")


def test_use_from_keeps_the_source_for_tracebacks_and_inspect(tmp_path, monkeypatch):
    import inspect
    import traceback
    import nbformat
    from course_lib.reuse import use_from
    cell = nbformat.v4.new_code_cell("%matplotlib inline\n\ndef ratio(a, b):\n    scaled = a * 2\n    return scaled / b   # the line")
    cell.metadata["nbgrader"] = {"solution": True, "grade_id": "ratio"}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title"), cell])
    nbformat.write(nb, tmp_path / "04a_x.ipynb")
    monkeypatch.chdir(tmp_path)
    ratio = use_from("04a_x.ipynb", "ratio")
    with pytest.raises(ZeroDivisionError) as err:
        ratio(1, 0)
    text = "".join(traceback.format_exception(err.value))
    assert 'File "<04a_x.ipynb cell 1>", line 5, in ratio' in text and "return scaled / b   # the line" in text
    assert inspect.getsource(ratio).startswith("def ratio(a, b):")
    cell.source = cell.source.replace("a * 2", "a * 3")      # the student edits and saves: both versions stay readable
    nbformat.write(nb, tmp_path / "04a_x.ipynb")
    new = use_from("04a_x.ipynb", "ratio")
    assert new(1, 1) == 3 and "a * 3" in inspect.getsource(new) and "a * 2" in inspect.getsource(ratio)


def test_use_from_brings_what_the_notebook_itself_takes(tmp_path, monkeypatch):
    """A notebook's own use_from lines run when it is loaded (relative to its folder, as when it runs): its
    functions find what they reuse."""
    import nbformat
    from course_lib.reuse import use_from
    first = nbformat.v4.new_code_cell("def double(x):\n    return 2 * x")
    first.metadata["nbgrader"] = {"solution": True, "grade_id": "double"}
    (tmp_path / "ch").mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[first]), tmp_path / "ch" / "a.ipynb")
    setup = nbformat.v4.new_code_cell("from course_lib.reuse import use_from\ndouble = use_from('a.ipynb', 'double')\nprint(1)")
    second = nbformat.v4.new_code_cell("def quadruple(x):\n    return double(double(x))")
    second.metadata["nbgrader"] = {"solution": True, "grade_id": "quadruple"}
    nbformat.write(nbformat.v4.new_notebook(cells=[setup, second]), tmp_path / "ch" / "b.ipynb")
    loop = nbformat.v4.new_code_cell("from course_lib.reuse import use_from\nme = use_from('c.ipynb', 'me')")
    nbformat.write(nbformat.v4.new_notebook(cells=[loop]), tmp_path / "c.ipynb")
    monkeypatch.chdir(tmp_path)
    assert use_from("ch/b.ipynb", "quadruple")(3) == 12
    with pytest.warns(UserWarning, match="RecursionError"), pytest.raises(LookupError, match="me of c.ipynb could not"):
        use_from("c.ipynb", "me")


def test_ch06_gae_uses_chapter_4s_gae_on_each_column():
    """06b's gae lays the rollout's columns end to end for 04b's gae (the solution here): the same
    advantages as the recursion over (T, N) written directly, truncation, termination and the rollout's end."""
    import torch
    from autograder.stability import load_training
    ns = load_training(REPO / "notebooks" / "06_ppo" / "06b_ppo.ipynb", extra=("gae",))
    g = torch.Generator().manual_seed(0)
    for T, N in ((1, 1), (7, 3), (40, 8)):
        r, v, nv = (torch.randn(T, N, generator=g) for _ in range(3))
        te, tr = torch.rand(T, N, generator=g) < 0.15, torch.rand(T, N, generator=g) < 0.15
        expected, running = torch.zeros(T, N), torch.zeros(N)
        for t in reversed(range(T)):
            delta = r[t] + 0.9 * (~te[t]).float() * nv[t] - v[t]
            running = delta + 0.9 * 0.8 * (~(te[t] | tr[t])).float() * running
            expected[t] = running
        adv, ret = ns["gae"](r, v, nv, te, tr, 0.9, 0.8)
        assert adv.shape == (T, N) and adv.dtype == torch.float32 and not adv.requires_grad
        assert torch.allclose(adv, expected, atol=1e-5) and torch.allclose(ret, expected + v, atol=1e-5)


def test_plot_path_draws_and_validates():
    from course_lib.paths import plot_path
    ax = plot_path([0, 4, 8, 9, 13, 14, 15], (4, 4), desc=["SFFF", "FHFH", "FFFH", "HFFG"], label="p")
    assert len(ax.lines) >= 1 and ax.get_legend() is not None
    with pytest.raises(ValueError):
        plot_path([16], (4, 4))


def test_check_messages_show_matrices_as_rows_and_name_the_index():
    from course_lib.checks import check_close

    with pytest.raises(AssertionError) as err:
        check_close(np.array([[1.0, 3.5], [2.5, 2.5]]), [[1.0, 1.0], [0.0, 0.0]], "Q")
    text = str(err.value)
    assert "expected [[1, 1], [0, 0]], got [[1, 3.5], [2.5, 2.5]]" in text
    assert "largest difference at index (0, 1): expected 1, got 3.5" in text
    with pytest.raises(AssertionError) as err:
        check_close(np.zeros((10, 12)), np.ones((10, 12)), "big")
    assert "(shape (10, 12))" in str(err.value) and str(err.value).count("[0, 0") == 4


def test_policy_distribution_gives_categorical_and_diagonal_gaussian_log_probs_and_entropies():
    import math

    import torch.nn.functional as F
    from torch import nn

    from course_lib.policies import GaussianPolicy, greedy_action, policy_distribution

    torch.manual_seed(0)
    logits_net = nn.Linear(3, 4)
    obs = torch.randn(5, 3)
    actions = torch.tensor([0, 3, 1, 2, 2])
    dist = policy_distribution(logits_net, obs)
    log_probs = F.log_softmax(logits_net(obs), dim=-1)
    assert torch.allclose(dist.log_prob(actions), log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1), atol=1e-6)
    assert torch.allclose(dist.entropy(), -(log_probs.exp() * log_probs).sum(-1), atol=1e-6)
    assert torch.equal(greedy_action(logits_net, obs), logits_net(obs).argmax(-1))

    gauss = GaussianPolicy(nn.Linear(3, 2), action_dim=2, log_std_init=math.log(0.5))
    a = torch.randn(5, 2)
    mean = gauss(obs)
    by_hand = (-(a - mean) ** 2 / (2 * 0.25) - math.log(0.5) - 0.5 * math.log(2 * math.pi)).sum(-1)
    gdist = policy_distribution(gauss, obs)
    assert gdist.log_prob(a).shape == (5,)
    assert torch.allclose(gdist.log_prob(a), by_hand, atol=1e-5)
    assert torch.allclose(gdist.entropy(), torch.full((5,), 2 * 0.5 * math.log(2 * math.pi * math.e * 0.25)), atol=1e-5)
    assert torch.equal(greedy_action(gauss, obs), mean)
    assert [n for n, _ in gauss.named_parameters()].count("log_std") == 1


def test_observation_normalizer_merges_batches_into_the_mean_and_variance_of_all_of_them():
    from course_lib.policies import ObservationNormalizer

    g = torch.Generator().manual_seed(1)
    batches = [torch.randn(n, 3, generator=g) * torch.tensor([1.0, 10.0, 0.1]) + 5 for n in (7, 1, 30)]
    norm = ObservationNormalizer(3, clip=100.0)
    for b in batches:
        norm.update(b)
    everything = torch.cat(batches)
    assert torch.allclose(norm.mean, everything.mean(0), atol=1e-4)
    assert torch.allclose(norm.var, everything.var(0, unbiased=False), rtol=1e-3)
    z = norm(everything)
    assert torch.allclose(z.mean(0), torch.zeros(3), atol=1e-3) and torch.allclose(z.std(0, unbiased=False), torch.ones(3), atol=1e-3)
    assert ObservationNormalizer(1, clip=2.0)(torch.tensor([[100.0]])).item() == 2.0


def test_with_changes_replaces_fields_and_names_the_valid_ones():
    from dataclasses import FrozenInstanceError, dataclass

    from course_lib.hyperparams import as_record, with_changes

    @dataclass(frozen=True)
    class Cfg:
        lr: float = 1e-3
        n_envs: int = 8

    base = Cfg()
    changed = with_changes(base, lr=3e-4)
    assert (changed.lr, changed.n_envs, base.lr) == (3e-4, 8, 1e-3)
    assert with_changes(base) is base
    with pytest.raises(TypeError, match=r"Cfg has no setting 'lr_pi'; its settings are: lr, n_envs"):
        with_changes(base, lr_pi=1e-3)
    with pytest.raises(TypeError, match="config dataclass instance"):
        with_changes(Cfg, lr=1.0)
    with pytest.raises(FrozenInstanceError):
        base.lr = 2.0
    assert as_record(changed) == {"lr": 3e-4, "n_envs": 8}
