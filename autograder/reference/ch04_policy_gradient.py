"""Reference implementations and hidden-check helpers for chapter 04, policy gradients (instructors only).

Hidden test cells load this file fresh with ``course_lib.grading.load_reference("04_policy_gradient")``.
It holds the reference answers, the known mistakes (what a typical wrong answer returns, so that a
failing check can name it) and one ``hidden_<exercise>`` function per exercise. ``checks`` (a private
copy of course_lib.checks) is attached by ``load_reference``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch

# ---------------------------------------------------------------- references


def discount_cumsum(x, gamma: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    g = 0.0
    for t in reversed(range(len(x))):
        g = x[t] + gamma * g
        out[t] = g
    return out


def reward_to_go(rewards, dones, gamma: float) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    dones = np.asarray(dones, dtype=bool)
    out = np.zeros_like(rewards)
    g = 0.0
    for t in reversed(range(len(rewards))):
        if dones[t]:
            g = 0.0
        g = rewards[t] + gamma * g
        out[t] = g
    return out


def categorical_log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)


def pg_loss(logp: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return -(logp * weights.detach()).mean()


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    z = (actions - mean) / torch.exp(log_std)
    return (-0.5 * z ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def gae(rewards, values, next_values, terminated, truncated, gamma: float, lam: float) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    next_values = np.asarray(next_values, dtype=np.float64)
    terminated = np.asarray(terminated, dtype=bool)
    truncated = np.asarray(truncated, dtype=bool)
    adv = np.zeros_like(rewards)
    last = 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_values[t] * (not terminated[t]) - values[t]
        if terminated[t] or truncated[t]:
            last = 0.0
        last = delta + gamma * lam * last
        adv[t] = last
    return adv


def _rows(x) -> list:
    """Nested Python lists of floats (a tensor or array, detached)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    return x.tolist()


def categorical_expected(logits, actions):
    """``(log-probabilities (N,), gradient of their sum w.r.t. the logits (N, A))`` in plain Python
    floats (math only), so that rebinding torch functions in the notebook cannot change them."""
    values, grads = [], []
    for row, a in zip(_rows(logits), _rows(actions)):
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        values.append(row[int(a)] - lse)
        grads.append([(1.0 if j == int(a) else 0.0) - math.exp(v - lse) for j, v in enumerate(row)])
    return values, grads


def gaussian_expected(mean, log_std, actions):
    """``(log-likelihoods (N,), d sum / d mean (N, d), d sum / d log_std (same shape as log_std))``
    in plain Python floats (math only)."""
    mu, act, ls = _rows(mean), _rows(actions), _rows(log_std)
    per_sample = isinstance(ls[0], list)
    c = 0.5 * math.log(2 * math.pi)
    values, d_mean = [], []
    d_ls = [[0.0] * len(mu[0]) for _ in mu] if per_sample else [0.0] * len(mu[0])
    for i, (m_row, a_row) in enumerate(zip(mu, act)):
        ls_row = ls[i] if per_sample else ls
        total, dm = 0.0, []
        for d, (m, a, l) in enumerate(zip(m_row, a_row, ls_row)):
            z = (a - m) / math.exp(l)
            total += -0.5 * z * z - l - c
            dm.append(z / math.exp(l))
            if per_sample:
                d_ls[i][d] = z * z - 1.0
            else:
                d_ls[d] += z * z - 1.0
        values.append(total)
        d_mean.append(dm)
    return values, d_mean, d_ls


# ---------------------------------------------------------------- known mistakes


def cumsum_mistakes(x, gamma):
    x = np.asarray(x, dtype=np.float64)
    forward = np.zeros_like(x)
    g = 0.0
    for t in range(len(x)):
        g = x[t] + gamma * g
        forward[t] = g
    return {
        "discounting starts at gamma^1 instead of gamma^0 (off by one)": gamma * discount_cumsum(x, gamma),
        "the sum runs forwards, over the past (y[t] sums x[0..t]) instead of the future": forward,
        "no discounting (gamma ignored)": discount_cumsum(x, 1.0),
        "the output is reversed": discount_cumsum(x, gamma)[::-1].copy(),
        "y[t] is the sum from t+1 on (the current x[t] is left out)": discount_cumsum(x, gamma) - x,
    }


def rtg_mistakes(rewards, dones, gamma):
    rewards = np.asarray(rewards, dtype=np.float64)
    dones = np.asarray(dones, dtype=bool)
    late = np.zeros_like(rewards)  # reset after adding the reward of the last step: boundary one step off
    g = 0.0
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * g
        late[t] = g
        if dones[t]:
            g = 0.0
    shifted = np.zeros_like(rewards)  # reset tested on dones[t - 1]: the boundary moved by one step
    g = 0.0
    for t in reversed(range(len(rewards))):
        if t + 1 < len(rewards) and dones[t + 1]:
            g = 0.0
        g = rewards[t] + gamma * g
        shifted[t] = g
    total = np.zeros_like(rewards)  # the whole episode's return at every step (the simplest PG weight)
    start = 0
    for t in range(len(rewards)):
        if dones[t] or t == len(rewards) - 1:
            total[start:t + 1] = reward_to_go(rewards, dones, gamma)[start]
            start = t + 1
    return {
        "no reset of the reward-to-go at episode ends (rewards of the next episode leak into this one)":
            discount_cumsum(rewards, gamma),
        "the reset happens one step late (a step with dones[t]=True still adds the next episode's return)":
            late,
        "the episode boundary is shifted by one step": shifted,
        "the whole episode's return at every step instead of the reward-to-go": total,
        "no discounting (gamma ignored)": reward_to_go(rewards, dones, 1.0),
    }


def categorical_mistakes(logits, actions):
    logits = logits.detach().double()
    a = actions.long().unsqueeze(-1)
    return {
        "probabilities instead of log-probabilities": torch.softmax(logits, -1).gather(-1, a).squeeze(-1),
        "raw logits gathered without normalising (log_softmax missing)": logits.gather(-1, a).squeeze(-1),
        "softmax taken over the batch axis (dim=0) instead of the action axis":
            torch.log_softmax(logits, 0).gather(-1, a).squeeze(-1),
    }


def pg_mistakes(logp, weights):
    logp, weights = logp.detach().double(), weights.detach().double()
    return {
        "a sign error: gradient descent on this loss must *increase* logp * weights, so the loss is "
        "minus their mean": (logp * weights).mean(),
        "sum instead of mean over the batch": -(logp * weights).sum(),
        "a broadcasting bug: (N,) times (N, 1) gives an (N, N) matrix whose mean mixes all pairs":
            -(logp[:, None] * weights[None, :]).mean(),
    }


def gaussian_mistakes(mean, log_std, actions):
    mean, log_std, actions = mean.detach().double(), log_std.detach().double(), actions.detach().double()
    c = 0.5 * math.log(2 * math.pi)
    ref = gaussian_log_prob(mean, log_std, actions)
    sigma_wrong = log_std.expand_as(mean)
    out = {
        "log_std used as the standard deviation (sigma = exp(log_std))":
            (-0.5 * ((actions - mean) / sigma_wrong) ** 2 - log_std - c).sum(-1),
        "log_std used as the standard deviation, in both terms (sigma = exp(log_std))":
            (-0.5 * ((actions - mean) / sigma_wrong) ** 2 - torch.log(sigma_wrong.abs()) - c).sum(-1),
        "the constant -0.5 * log(2 pi) is missing": ref + c * mean.shape[-1],
        "the log-std term is missing (-log sigma)": ref + log_std.expand_as(mean).sum(-1),
        "sigma^2 in place of sigma in the quadratic term":
            (-0.5 * (actions - mean) ** 2 / torch.exp(log_std) - log_std - c).sum(-1),
        "the factor 1/2 of the quadratic term is missing":
            (-((actions - mean) / torch.exp(log_std)) ** 2 - log_std - c).sum(-1),
        "mean over the action dimensions instead of the sum": ref / mean.shape[-1],
        "the density (probability) instead of the log-density": torch.exp(ref),
    }
    return out


def gae_mistakes(rewards, values, next_values, terminated, truncated, gamma, lam):
    args = (rewards, values, next_values)
    terminated = np.asarray(terminated, dtype=bool)
    truncated = np.asarray(truncated, dtype=bool)
    none = np.zeros_like(terminated)
    # carry across boundaries but bootstrap correctly
    carry = np.zeros(len(rewards))
    last = 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_values[t] * (not terminated[t]) - values[t]
        last = delta + gamma * lam * last
        carry[t] = last
    # next_values taken as values[t + 1] (ignoring the given bootstrap values)
    shifted = np.append(np.asarray(values, dtype=np.float64)[1:], next_values[-1])
    return {
        "bootstrapping through a terminal state (gamma * V(s') must be dropped when terminated)":
            gae(*args, none, terminated | truncated, gamma, lam),
        "a truncated step treated as terminal (a time limit is not the end of the task: bootstrap from "
        "next_values)": gae(*args, terminated | truncated, none, gamma, lam),
        "the recursion is not reset at episode ends (advantages leak across episode boundaries)": carry,
        "bootstrapping through a terminal state and no reset at episode ends": gae(*args, none, none, gamma, lam),
        "lambda missing from the recursion (A_t = delta_t + gamma * A_t+1)":
            gae(*args, terminated, truncated, gamma, 1.0),
        "gamma missing from the recursion (A_t = delta_t + lambda * A_t+1)": _gae_no_gamma(
            rewards, values, next_values, terminated, truncated, gamma, lam),
        "next_values ignored: V(s_t+1) read from values[t + 1], which belongs to the next episode at a "
        "boundary": gae(rewards, values, shifted, terminated, truncated, gamma, lam),
        "the returns (advantages + values) instead of the advantages":
            gae(*args, terminated, truncated, gamma, lam) + np.asarray(values, dtype=np.float64),
    }


def _gae_no_gamma(rewards, values, next_values, terminated, truncated, gamma, lam):
    adv = np.zeros(len(rewards))
    last = 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_values[t] * (not terminated[t]) - values[t]
        if terminated[t] or truncated[t]:
            last = 0.0
        last = delta + lam * last
        adv[t] = last
    return adv


# ---------------------------------------------------------------- test inputs


def random_episode_flags(rng: np.random.Generator, T: int, p_end: float = 0.15):
    """``(terminated, truncated)`` bool arrays of length T with episode ends inside the batch; never both."""
    ends = rng.random(T) < p_end
    trunc = ends & (rng.random(T) < 0.4)
    term = ends & ~trunc
    return term, trunc


def _np(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


# ---------------------------------------------------------------- hidden checks, one per exercise


def hidden_discount_cumsum(fn) -> None:
    rng = np.random.default_rng(401)
    cases = [(np.array([3.0]), 0.9), (np.array([1.0, 2.0, 3.0]), 0.0), (np.array([1.0, 2.0, 3.0]), 1.0),
             (np.array([0.0, 0.0, 10.0]), 0.5), (np.ones(50), 0.99)]
    for _ in range(20):
        cases.append((rng.normal(size=int(rng.integers(2, 60))).round(3), float(rng.uniform(0.0, 1.0))))
    for x, gamma in cases:
        got = fn(x.copy(), gamma)
        name = f"discount_cumsum(x of length {len(x)}, gamma={gamma:.3f})"
        checks.check_shape(got, (len(x),), name)
        checks.check_close(_np(got), discount_cumsum(x, gamma), name, atol=1e-8, rtol=1e-8,
                           mistakes=cumsum_mistakes(x, gamma))
    got = fn([1.0, 1.0], 0.5)  # a list works too
    checks.check_close(_np(got), [1.5, 1.0], "discount_cumsum([1.0, 1.0], 0.5) (a list as input)")


def hidden_reward_to_go(fn) -> None:
    rng = np.random.default_rng(402)
    cases = [
        ("a batch of one step, episode over", [2.0], [True], 0.9),
        ("a batch of one step, episode continues", [2.0], [False], 0.9),
        ("every step its own episode", [1.0, 2.0, 3.0], [True, True, True], 0.9),
        ("two episodes, gamma=1", [1.0, 1.0, 1.0, 1.0, 1.0], [False, True, False, False, True], 1.0),
        ("the batch ends inside an episode", [1.0, 2.0, 3.0, 4.0], [False, True, False, False], 0.5),
        ("one long episode", list(np.ones(30)), [False] * 29 + [True], 0.95),
    ]
    for i in range(18):
        T = int(rng.integers(3, 60))
        dones = rng.random(T) < 0.2
        dones[int(rng.integers(0, T - 1))] = True  # at least one boundary inside the batch
        cases.append((f"random batch #{i} ({int(dones.sum())} episode ends)", rng.normal(size=T).round(3),
                      dones, float(rng.uniform(0.5, 1.0))))
    for label, rewards, dones, gamma in cases:
        rewards = np.asarray(rewards, dtype=np.float64)
        dones = np.asarray(dones, dtype=bool)
        got = fn(rewards.copy(), dones.copy(), gamma)
        name = f"reward_to_go ({label}, T={len(rewards)}, gamma={gamma:.2f})"
        checks.check_shape(got, (len(rewards),), name)
        checks.check_close(_np(got), reward_to_go(rewards, dones, gamma), name, atol=1e-8, rtol=1e-8,
                           mistakes=rtg_mistakes(rewards, dones, gamma))


def hidden_categorical_log_prob(fn) -> None:
    gen = torch.Generator().manual_seed(403)
    cases = []
    for i in range(12):
        N, A = int(torch.randint(1, 40, (1,), generator=gen)), int(torch.randint(2, 7, (1,), generator=gen))
        scale = 100.0 if i % 4 == 3 else 3.0  # large logits: log(softmax) underflows, log_softmax does not
        logits = torch.randn(N, A, generator=gen) * scale
        actions = torch.randint(0, A, (N,), generator=gen)
        cases.append((logits, actions))
    cases.append((torch.tensor([[0.0, 0.0]]), torch.tensor([1])))  # a batch of one
    for i, (logits, actions) in enumerate(cases):
        N, A = logits.shape
        name = f"categorical_log_prob (case #{i}, N={N}, A={A}, |logits| up to {float(logits.abs().max()):.0f})"
        leaf = logits.clone().requires_grad_(True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = fn(leaf, actions.clone())
        checks.check_type(got, torch.Tensor, name)
        checks.check_shape(got, (N,), name)
        expected, expected_grad = categorical_expected(logits, actions)
        assert all(math.isfinite(v) for v in _rows(got)), (
            f"{name}: got -inf or nan for large logits. log(softmax(x)) underflows; use "
            "torch.log_softmax (or logits - logsumexp) instead")
        checks.check_close(got, expected, name, atol=1e-4, rtol=1e-5, mistakes=categorical_mistakes(logits, actions))
        assert got.requires_grad, f"{name}: the result carries no gradient to the logits (no .detach() / numpy here)"
        got.sum().backward()
        assert leaf.grad is not None, f"{name}: no gradient reaches the logits"
        checks.check_close(leaf.grad, expected_grad, f"{name}: gradient with respect to the logits",
                           atol=1e-4, rtol=1e-4)


def hidden_pg_loss(fn) -> None:
    gen = torch.Generator().manual_seed(404)
    for i in range(12):
        N = 1 if i == 0 else int(torch.randint(2, 200, (1,), generator=gen))
        logp_data = -torch.rand(N, generator=gen) * 3
        weights_data = torch.randn(N, generator=gen) * 5 + (2.0 if i % 2 else 0.0)
        logp = logp_data.clone().requires_grad_(True)
        weights = weights_data.clone().requires_grad_(True)  # e.g. advantages from a value network
        name = f"pg_loss (case #{i}, N={N})"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = fn(logp, weights)
        checks.check_type(loss, torch.Tensor, name)
        assert loss.dim() == 0, f"{name}: the loss must be a scalar (0-dim tensor), got shape {tuple(loss.shape)}"
        expected = -sum(lp * w for lp, w in zip(_rows(logp_data), _rows(weights_data))) / N
        checks.check_close(loss, expected, name, atol=1e-4, rtol=1e-4,
                           mistakes=pg_mistakes(logp_data, weights_data) if N > 1 else
                           {"a sign error": (logp_data * weights_data).mean()})
        loss.backward()
        assert logp.grad is not None, f"{name}: no gradient reaches logp (the loss must be built from it)"
        checks.check_close(logp.grad, [-w / N for w in _rows(weights_data)], f"{name}: d loss / d logp",
                           atol=1e-5, rtol=1e-4)
        if weights.grad is not None and float(weights.grad.abs().max()) > 0:
            raise AssertionError(
                f"{name}: gradient flows into the weights: a known mistake: the weights (returns or "
                "advantages) are targets, treat them as constants with weights.detach(). Otherwise the "
                "policy loss also trains the value network, in the wrong direction.")


def hidden_gaussian_log_prob(fn) -> None:
    gen = torch.Generator().manual_seed(405)
    for i in range(14):
        N = 1 if i == 0 else int(torch.randint(2, 50, (1,), generator=gen))
        D = 1 if i in (0, 1, 2) else int(torch.randint(2, 6, (1,), generator=gen))
        mean = torch.randn(N, D, generator=gen)
        per_sample = i % 3 == 2  # log_std of shape (N, D): a state-dependent std
        log_std = torch.rand((N, D) if per_sample else (D,), generator=gen) * 2.5 - 2.0
        if i % 5 == 4:
            log_std = log_std + 1.5  # wide policies (std > 1)
        actions = mean + torch.randn(N, D, generator=gen) * torch.exp(log_std) * 1.5
        name = f"gaussian_log_prob (case #{i}, N={N}, D={D}, log_std shape {tuple(log_std.shape)})"
        m, s = mean.clone().requires_grad_(True), log_std.clone().requires_grad_(True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = fn(m, s, actions.clone())
        checks.check_type(got, torch.Tensor, name)
        checks.check_shape(got, (N,), name)
        expected, expected_d_mean, expected_d_ls = gaussian_expected(mean, log_std, actions)
        if not all(math.isfinite(v) for v in _rows(got)):
            raise AssertionError(
                f"{name}: got nan or inf. log_std is negative for narrow policies: taking log(log_std) or "
                "dividing by log_std means it was used as the standard deviation (a known mistake); "
                "sigma = exp(log_std) and log(sigma) = log_std")
        checks.check_close(got, expected, name, atol=1e-4, rtol=1e-4,
                           mistakes=gaussian_mistakes(mean, log_std, actions))
        assert got.requires_grad, f"{name}: the result carries no gradient (keep it a torch expression)"
        got.sum().backward()
        assert m.grad is not None and s.grad is not None, f"{name}: no gradient reaches mean or log_std"
        checks.check_close(m.grad, expected_d_mean, f"{name}: gradient with respect to the mean", atol=1e-3, rtol=1e-3)
        checks.check_close(s.grad, expected_d_ls, f"{name}: gradient with respect to log_std", atol=1e-3, rtol=1e-3)


def hidden_gae(fn) -> None:
    rng = np.random.default_rng(406)
    f, t = False, True
    cases = [
        # (label, rewards, values, next_values, terminated, truncated, gamma, lam)
        ("a batch of one step that terminates", [1.0], [0.5], [2.0], [t], [f], 0.9, 0.95),
        ("a batch of one step that is truncated (bootstrap!)", [1.0], [0.5], [2.0], [f], [t], 0.9, 0.95),
        ("a batch of one step, episode continues", [1.0], [0.5], [2.0], [f], [f], 0.9, 0.95),
        ("terminated and truncated both set (terminated wins: no bootstrap)", [1.0, 1.0], [0.5, 0.5], [3.0, 3.0],
         [f, t], [f, t], 0.9, 0.9),
        ("lambda = 0 gives the TD errors", [1.0, 0.0, 2.0, 1.0], [0.2, 0.4, 0.1, 0.3], [0.4, 1.0, 0.3, 0.7],
         [f, t, f, f], [f, f, f, t], 0.9, 0.0),
        ("lambda = 1 gives bootstrapped reward-to-go minus V", [1.0, 0.0, 2.0, 1.0, 0.5],
         [0.2, 0.4, 0.1, 0.3, 0.6], [0.4, 1.0, 0.3, 0.6, 0.8], [f, t, f, f, f], [f, f, f, t, f], 0.95, 1.0),
        ("episode boundaries inside the batch, terminated then truncated", [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
         [1.0, 2.0, 3.0, 1.0, 2.0, 3.0], [2.0, 3.0, 9.0, 2.0, 3.0, 9.0], [f, f, t, f, f, f], [f, f, f, f, f, t],
         0.9, 0.8),
    ]
    for i in range(16):
        T = int(rng.integers(3, 80))
        term, trunc = random_episode_flags(rng, T)
        j, k = rng.choice(T - 1, size=2, replace=False)  # both kinds of episode end inside the batch
        term[j], trunc[j] = True, False
        term[k], trunc[k] = False, True
        values = rng.normal(size=T).round(3)
        next_values = np.append(values[1:], rng.normal())
        ends_idx = np.flatnonzero(term | trunc)
        next_values[ends_idx] = rng.normal(size=len(ends_idx)).round(3)  # V(final state) of the ended episode
        cases.append((f"random batch #{i} ({int(term.sum())} terminated, {int(trunc.sum())} truncated)",
                      rng.normal(size=T).round(3), values, next_values, term, trunc,
                      float(rng.uniform(0.8, 1.0)), float(rng.uniform(0.5, 1.0))))
    for label, r, v, nv, te, tr, gamma, lam in cases:
        r, v, nv = (np.asarray(x, dtype=np.float64) for x in (r, v, nv))
        te, tr = np.asarray(te, dtype=bool), np.asarray(tr, dtype=bool)
        got = fn(r.copy(), v.copy(), nv.copy(), te.copy(), tr.copy(), gamma, lam)
        name = f"gae ({label}, T={len(r)}, gamma={gamma:.2f}, lambda={lam:.2f})"
        checks.check_shape(got, (len(r),), name)
        expected = gae(r, v, nv, te, tr, gamma, lam)
        mistakes = {k: m for k, m in gae_mistakes(r, v, nv, te, tr, gamma, lam).items()
                    if not checks.is_close(m, expected, atol=1e-6, rtol=1e-6)}
        checks.check_close(_np(got), expected, name, atol=1e-6, rtol=1e-6, mistakes=mistakes)
