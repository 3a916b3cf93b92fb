"""Reference implementations and hidden-check helpers for chapter 05 (instructors only).

Hidden test cells load this file fresh with ``course_lib.grading.load_reference("05_actor_critic")``.
It holds the reference of every exercise, the known mistakes (what a typical wrong answer returns,
so that a failing check can name the mistake) and seeded random test inputs. No hidden check starts
a process: the gradient hand-off is checked on shared-memory models in the grading kernel itself.
"""
from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# ---------------------------------------------------------------- references


def n_step_returns(rewards, terminated, truncated, next_values, gamma):
    """R_t = r_t + gamma * (0 if terminated_t else (V(s_{t+1}) if truncated_t or t = T-1 else R_{t+1}))."""
    T = rewards.shape[0]
    next_values = next_values.detach()
    out = torch.empty_like(rewards, dtype=torch.float32)
    running = next_values[T - 1].float()
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            running = torch.where(truncated[t], next_values[t].float(), running)
        running = rewards[t].float() + gamma * (~terminated[t]).float() * running
        out[t] = running
    return out


def categorical_entropy(logits):
    logp = F.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).sum(dim=-1)


def actor_critic_loss(logits, actions, values, returns, value_coef=0.5, entropy_coef=0.01):
    returns = returns.detach()
    advantages = returns - values.detach()
    log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    policy_loss = -(log_probs * advantages).mean()
    value_loss = (returns - values).pow(2).mean()
    entropy = categorical_entropy(logits).mean()
    loss = policy_loss + value_coef * value_loss - entropy_coef * entropy
    return loss, policy_loss, value_loss, entropy


def worker_update(loss, local_model, shared_model, shared_optimizer, max_grad_norm):
    local_model.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(local_model.parameters(), max_grad_norm)
    for local_p, shared_p in zip(local_model.parameters(), shared_model.parameters()):
        shared_p.grad = None if local_p.grad is None else local_p.grad.clone()
    shared_optimizer.step()
    with torch.no_grad():
        for local_p, shared_p in zip(local_model.parameters(), shared_model.parameters()):
            local_p.copy_(shared_p)
    return float(norm)


def q_targets(rewards, terminated, truncated, next_q, next_actions, gamma, method):
    next_q = next_q.detach().float()
    if method == "q":
        boot = next_q.max(dim=-1).values
    elif method == "sarsa":
        boot = next_q.gather(-1, next_actions.long().unsqueeze(-1)).squeeze(-1)
    elif method == "n-step":
        return n_step_returns(rewards, terminated, truncated, next_q.max(dim=-1).values, gamma)
    else:
        raise ValueError(method)
    return rewards.float() + gamma * (~terminated).float() * boot


# ---------------------------------------------------------------- known mistakes


def return_mistakes(rewards, terminated, truncated, next_values, gamma):
    never = torch.zeros_like(terminated)
    last_zero = next_values.clone()
    last_zero[-1] = 0.0
    one_step = rewards + gamma * (~terminated).float() * next_values
    first_discounted = n_step_returns(rewards, terminated, truncated, next_values, gamma) * gamma
    # discount one step too many: R_t = gamma * r_t + gamma * R_{t+1}
    return {
        "bootstrapping through a terminal state (a terminated step must add nothing after its reward)":
            n_step_returns(rewards, never, truncated, next_values, gamma),
        "a time-limit truncation treated as a terminal state (truncated steps must bootstrap from V of "
        "the final observation)": n_step_returns(rewards, terminated | truncated, never, next_values, gamma),
        "returns run across a truncation into the next episode (at a truncated step, restart from "
        "V(final observation) instead of the next step's return)":
            n_step_returns(rewards, terminated, never, next_values, gamma),
        "no bootstrap at the end of the rollout (the last step must add gamma * V(s_T) unless terminated)":
            n_step_returns(rewards, terminated, truncated, last_zero, gamma),
        "one-step TD targets (r + gamma V(s')) instead of n-step returns": one_step,
        "the first reward is discounted too (off by one in the powers of gamma)": first_discounted,
    }


def entropy_mistakes(logits):
    h = categorical_entropy(logits)
    probs = F.softmax(logits, dim=-1)
    return {
        "the minus sign is missing (entropy is -sum p log p, a non-negative number)": -h,
        "log base 2 (bits) instead of the natural log (nats)": h / math.log(2.0),
        "averaged over actions instead of summed": h / logits.shape[-1],
        "sum of p * logits instead of p * log p (log_softmax is missing)": -(probs * logits).sum(-1),
    }


def _loss_variant(logits, actions, values, returns, value_coef, entropy_coef, *, detach_adv=True,
                  entropy_sign=-1.0, adv_sign=1.0, value_scale=1.0, reduce="mean", use_probs=False):
    logits = logits.detach().clone().requires_grad_(True)
    values = values.detach().clone().requires_grad_(True)
    returns = returns.detach()
    advantages = adv_sign * (returns - (values.detach() if detach_adv else values))
    lp = F.log_softmax(logits, dim=-1)
    taken = lp.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    if use_probs:
        taken = taken.exp()
    red = torch.mean if reduce == "mean" else torch.sum
    policy_loss = -red(taken * advantages)
    value_loss = value_scale * red((returns - values).pow(2))
    entropy = red(categorical_entropy(logits))
    loss = policy_loss + value_coef * value_loss + entropy_sign * entropy_coef * entropy
    loss.backward()
    return {"loss": loss.detach(), "policy_loss": policy_loss.detach(), "value_loss": value_loss.detach(),
            "entropy": entropy.detach(), "grad_logits": logits.grad, "grad_values": values.grad}


LOSS_MISTAKES = {
    "the entropy term has the wrong sign (loss = ... + entropy_coef * entropy punishes exploration; "
    "it must be - entropy_coef * entropy)": dict(entropy_sign=+1.0),
    "the advantages carry gradient into the actor loss (use returns - values.detach() in the policy "
    "loss: the actor's loss must not train the critic)": dict(detach_adv=False),
    "the advantage has the wrong sign (V - R instead of R - V)": dict(adv_sign=-1.0),
    "the value loss is halved (this exercise defines it as the mean of (R - V)^2; value_coef weights it)":
        dict(value_scale=0.5),
    "sums over the batch instead of means": dict(reduce="sum"),
    "probabilities instead of log-probabilities in the policy loss": dict(use_probs=True),
}


def loss_mistakes(logits, actions, values, returns, value_coef, entropy_coef):
    return {name: _loss_variant(logits, actions, values, returns, value_coef, entropy_coef, **kw)
            for name, kw in LOSS_MISTAKES.items()}


def q_target_mistakes(rewards, terminated, truncated, next_q, next_actions, gamma, method):
    never = torch.zeros_like(terminated)
    m = {
        "bootstrapping through a terminal state": q_targets(rewards, never, truncated, next_q, next_actions, gamma, method),
        "a time-limit truncation treated as a terminal state":
            q_targets(rewards, terminated | truncated, never, next_q, next_actions, gamma, method),
    }
    if method == "q":
        m["the SARSA target (Q of the next action) instead of Q-learning's max over next actions"] = \
            q_targets(rewards, terminated, truncated, next_q, next_actions, gamma, "sarsa")
        m["min over next actions instead of max"] = \
            rewards + gamma * (~terminated).float() * next_q.min(-1).values
    elif method == "sarsa":
        m["Q-learning's max over next actions instead of SARSA's Q of the action actually taken next"] = \
            q_targets(rewards, terminated, truncated, next_q, next_actions, gamma, "q")
    else:
        m["one-step targets instead of n-step returns"] = \
            q_targets(rewards, terminated, truncated, next_q, next_actions, gamma, "q")
        m["n-step returns that run across a truncation into the next episode"] = \
            n_step_returns(rewards, terminated, never, next_q.max(-1).values, gamma)
    return m


# ---------------------------------------------------------------- test inputs


def random_rollout(rng: np.random.Generator, T: int, N: int, p_term: float = 0.15, p_trunc: float = 0.1):
    rewards = torch.tensor(rng.normal(size=(T, N)).round(2), dtype=torch.float32)
    u = rng.random((T, N))
    terminated = torch.tensor(u < p_term)
    truncated = torch.tensor((u >= p_term) & (u < p_term + p_trunc))
    next_values = torch.tensor(rng.normal(scale=3.0, size=(T, N)).round(2), dtype=torch.float32)
    return rewards, terminated, truncated, next_values


def _call_quietly(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ---------------------------------------------------------------- hidden checks, one per exercise
# ``checks`` is a fresh copy of course_lib.checks, attached by course_lib.grading.load_reference.


def _check_returns_output(got, T, N, name):
    checks.check_type(got, torch.Tensor, name)
    checks.check_shape(got, (T, N), name)
    assert not got.requires_grad, (f"{name}: the returns carry gradient. They are targets: detach "
                                   "next_values (or compute under torch.no_grad()).")


def hidden_n_step_returns(fn) -> None:
    rng = np.random.default_rng(505)
    cases = []
    # edge cases first: T = 1, one env, terminal / truncated / both at the last step, all terminal
    r = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    cases.append((r, torch.tensor([[True, False, False, True]]), torch.tensor([[False, True, False, True]]),
                  torch.tensor([[10.0, 20.0, 30.0, 40.0]]), 0.9, "T=1, terminal/truncated/neither/both"))
    rr, te, tr, nv = random_rollout(rng, 8, 1)
    cases.append((rr, te, tr, nv, 0.99, "one env (N=1)"))
    rr, _, _, nv = random_rollout(rng, 6, 3)
    cases.append((rr, torch.ones(6, 3, dtype=torch.bool), torch.zeros(6, 3, dtype=torch.bool), nv, 0.95,
                  "every step terminal"))
    cases.append((rr, torch.zeros(6, 3, dtype=torch.bool), torch.ones(6, 3, dtype=torch.bool), nv, 0.95,
                  "every step truncated"))
    cases.append((rr, torch.zeros(6, 3, dtype=torch.bool), torch.zeros(6, 3, dtype=torch.bool), nv, 1.0,
                  "no episode end, gamma=1"))
    for i in range(20):
        T, N = int(rng.integers(2, 13)), int(rng.integers(1, 7))
        rr, te, tr, nv = random_rollout(rng, T, N)
        cases.append((rr, te, tr, nv, float(rng.choice([0.0, 0.5, 0.9, 0.99, 1.0])), f"random rollout #{i}"))
    for rewards, terminated, truncated, next_values, gamma, label in cases:
        T, N = rewards.shape
        inputs = [x.clone() for x in (rewards, terminated, truncated, next_values)]
        got = _call_quietly(fn, *inputs, gamma)
        name = f"n_step_returns ({label}, T={T}, N={N}, gamma={gamma})"
        _check_returns_output(got, T, N, name)
        for original, after in zip((rewards, terminated, truncated, next_values), inputs):
            assert torch.equal(original, after), f"{name}: the inputs were modified in place"
        expected = n_step_returns(rewards, terminated, truncated, next_values, gamma)
        checks.check_close(got, expected, name, atol=1e-4, rtol=1e-5,
                           mistakes=return_mistakes(rewards, terminated, truncated, next_values, gamma))
    # next values that carry gradient (a critic's output): the returns must not
    rr, te, tr, nv = random_rollout(rng, 5, 2)
    nv = nv.clone().requires_grad_(True)
    got = _call_quietly(fn, rr, te, tr, nv, 0.9)
    _check_returns_output(got, 5, 2, "n_step_returns with next_values that require grad")


def hidden_categorical_entropy(fn) -> None:
    rng = np.random.default_rng(506)
    cases = [(torch.zeros(3, 4), "uniform over 4 actions"),
             (torch.tensor([[0.0, 0.0], [1.0, -1.0]]), "two actions"),
             (torch.tensor([[1.0, 2.0, 3.0]]), "batch of one"),
             (torch.tensor([[1000.0, 0.0, -1000.0], [50.0, 50.0, -50.0]]), "saturated logits")]
    for i in range(10):
        B, A = int(rng.integers(1, 9)), int(rng.integers(2, 7))
        cases.append((torch.tensor(rng.normal(scale=float(rng.choice([0.3, 1.0, 4.0])), size=(B, A)),
                                   dtype=torch.float32), f"random #{i}"))
    for logits, label in cases:
        x = logits.clone()
        got = _call_quietly(fn, x)
        name = f"categorical_entropy ({label}, logits shape {tuple(logits.shape)})"
        checks.check_type(got, torch.Tensor, name)
        checks.check_shape(got, (logits.shape[0],), name)
        assert torch.equal(x, logits), f"{name}: the logits were modified in place"
        if bool(torch.isnan(got.detach()).any()) or bool(torch.isinf(got.detach()).any()):
            raise AssertionError(f"{name}: got nan or inf. Large logits make softmax round to exactly 0 "
                                 "and log(0) = -inf; use F.log_softmax (0 * finite = 0).")
        checks.check_close(got, categorical_entropy(logits), name, atol=1e-4, rtol=1e-4,
                           mistakes=entropy_mistakes(logits))
    # it must be differentiable (the loss maximises it)
    logits = torch.tensor([[0.3, -0.2, 1.0]], requires_grad=True)
    out = _call_quietly(fn, logits)
    assert out.requires_grad, ("categorical_entropy: the result does not carry gradient back to the "
                               "logits; the entropy bonus could not change the policy")
    out.sum().backward()
    ref = torch.tensor([[0.3, -0.2, 1.0]], requires_grad=True)
    categorical_entropy(ref).sum().backward()
    checks.check_close(logits.grad, ref.grad, "gradient of the entropy with respect to the logits", atol=1e-5)


def _loss_case(rng, B, A, scale=1.0):
    logits = torch.tensor(rng.normal(scale=scale, size=(B, A)), dtype=torch.float32)
    actions = torch.tensor(rng.integers(0, A, size=B), dtype=torch.int64)
    values = torch.tensor(rng.normal(size=B), dtype=torch.float32)
    returns = torch.tensor(rng.normal(scale=2.0, size=B), dtype=torch.float32)
    return logits, actions, values, returns


def hidden_actor_critic_loss(fn) -> None:
    rng = np.random.default_rng(507)
    cases = [(_loss_case(rng, 1, 2), 0.5, 0.01, "batch of one"),
             (_loss_case(rng, 6, 3), 0.5, 0.0, "entropy_coef=0"),
             (_loss_case(rng, 5, 2), 1.0, 0.5, "large entropy_coef"),
             (_loss_case(rng, 4, 3, scale=30.0), 0.5, 0.01, "saturated logits")]
    for i in range(8):
        cases.append((_loss_case(rng, int(rng.integers(2, 33)), int(rng.integers(2, 6))),
                      float(rng.choice([0.25, 0.5, 1.0])), float(rng.choice([0.0, 0.01, 0.1])), f"random #{i}"))
    for (logits, actions, values, returns), vc, ec, label in cases:
        name = f"actor_critic_loss ({label}, B={len(actions)}, value_coef={vc}, entropy_coef={ec})"
        lg = logits.clone().requires_grad_(True)
        vl = values.clone().requires_grad_(True)
        rt = returns.clone().requires_grad_(True)  # a target that (wrongly) still carries gradient
        out = _call_quietly(fn, lg, actions.clone(), vl, rt, value_coef=vc, entropy_coef=ec)
        assert isinstance(out, tuple) and len(out) == 4, (
            f"{name}: return the tuple (loss, policy_loss, value_loss, entropy), got {type(out).__name__}")
        for part, value in zip(("loss", "policy_loss", "value_loss", "entropy"), out):
            checks.check_type(value, torch.Tensor, f"{name}: {part}")
            checks.check_shape(value, (), f"{name}: {part}")
        out[0].backward()
        ref = _loss_variant(logits, actions, values, returns, vc, ec)
        wrong = loss_mistakes(logits, actions, values, returns, vc, ec)
        for i, part in enumerate(("policy_loss", "value_loss", "entropy", "loss")):
            got = out[(i + 1) % 4]
            checks.check_close(got, ref[part], f"{name}: {part}", atol=1e-4, rtol=1e-4,
                               mistakes={m: w[part] for m, w in wrong.items()})
        assert lg.grad is not None, f"{name}: the loss does not depend on the logits (no gradient reached them)"
        assert vl.grad is not None, f"{name}: the loss does not depend on the values (the critic would not learn)"
        checks.check_close(vl.grad, ref["grad_values"], f"{name}: gradient of the loss with respect to the values",
                           atol=1e-4, rtol=1e-4, mistakes={m: w["grad_values"] for m, w in wrong.items()})
        checks.check_close(lg.grad, ref["grad_logits"], f"{name}: gradient of the loss with respect to the logits",
                           atol=1e-4, rtol=1e-4, mistakes={m: w["grad_logits"] for m, w in wrong.items()})
        if rt.grad is not None and float(rt.grad.abs().max()) > 0:
            raise AssertionError(f"{name}: gradient flows into the returns. They are targets: use "
                                 "returns.detach() (a target that carries gradient is a classic silent bug)")


# ---- the gradient hand-off


class _TinyNet(nn.Module):
    """Two heads on a trunk plus one parameter no loss reaches (its .grad stays None)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 5)
        self.head = nn.Linear(5, 2)
        self.unused = nn.Parameter(torch.ones(2))

    def forward(self, x):
        return self.head(torch.tanh(self.body(x)))


def _setup(seed: int, optimizer: str, lr: float):
    torch.manual_seed(seed)
    shared = _TinyNet()
    shared.share_memory()
    local = copy.deepcopy(shared)
    for p in local.parameters():  # deepcopy may keep shared storage: give the copy its own memory
        p.data = p.data.clone()
    if optimizer == "sgd":
        opt = torch.optim.SGD(shared.parameters(), lr=lr)
    else:
        opt = torch.optim.Adam(shared.parameters(), lr=lr, foreach=True)
    return shared, local, opt


def _loss_of(model, x, target):
    return ((model(x) - target) ** 2).sum()


def _update_variant(kind, loss, local, shared, opt, max_norm):
    if kind == "no_zero":
        loss.backward()
    else:
        local.zero_grad(set_to_none=True)
        loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(local.parameters(), max_norm) if kind != "no_clip" else \
        torch.nn.utils.get_total_norm([p.grad for p in local.parameters() if p.grad is not None])
    for lp, sp in zip(local.parameters(), shared.parameters()):
        if kind == "alias_once":
            if sp.grad is None:
                sp.grad = lp.grad
        else:
            sp.grad = None if lp.grad is None else lp.grad.clone()
    opt.step()
    if kind != "no_sync":
        with torch.no_grad():
            for lp, sp in zip(local.parameters(), shared.parameters()):
                lp.copy_(sp)
    return float(norm)


HANDOFF_MISTAKES = {
    "no_zero": "the local gradients are not cleared before backward(): each update adds all the previous "
               "gradients (local_model.zero_grad() first)",
    "alias_once": "the shared .grad was pointed at the local gradient only once: after zero_grad() sets "
                  "gradients to None, backward() makes new tensors and the shared model keeps stepping with "
                  "the first, stale gradient (copy the gradient at every update)",
    "no_clip": "the gradients are not clipped to max_grad_norm",
    "no_sync": "the local model is not synchronised with the shared parameters after the step (the "
               "worker keeps acting with stale weights)",
}


def _run_sequence(kind_or_fn, seed, optimizer, lr, max_norm, inputs):
    shared, local, opt = _setup(seed, optimizer, lr)
    record = []
    for x, target in inputs:
        loss = _loss_of(local, x, target)
        if callable(kind_or_fn):
            try:
                norm = _call_quietly(kind_or_fn, loss, local, shared, opt, max_norm)
            except AttributeError as exc:
                if "NoneType" not in str(exc):
                    raise
                raise AssertionError(
                    f"worker_update raised {exc!r}: a parameter that the loss does not reach has .grad None "
                    "(here: an unused parameter); skip it (leave the shared .grad None)") from exc
        else:
            norm = _update_variant(kind_or_fn, loss, local, shared, opt, max_norm)
        record.append((norm, [p.detach().clone() for p in shared.parameters()],
                       [p.detach().clone() for p in local.parameters()]))
    return shared, local, opt, record


def hidden_worker_update(fn) -> None:
    rng = np.random.default_rng(508)
    scenarios = [("sgd", 0.1, 1e6, "SGD, no clipping"), ("sgd", 0.05, 0.5, "SGD, clipped to 0.5"),
                 ("adam", 0.01, 1.0, "Adam, clipped to 1.0")]
    for seed, (optimizer, lr, max_norm, label) in enumerate(scenarios):
        inputs = [(torch.tensor(rng.normal(size=(4, 3)), dtype=torch.float32),
                   torch.tensor(rng.normal(size=(4, 2)), dtype=torch.float32)) for _ in range(3)]
        shared, local, opt, got = _run_sequence(fn, seed, optimizer, lr, max_norm, inputs)
        _, _, _, ref = _run_sequence("ok", seed, optimizer, lr, max_norm, inputs)
        wrong = {HANDOFF_MISTAKES[k]: _run_sequence(k, seed, optimizer, lr, max_norm, inputs)[3]
                 for k in HANDOFF_MISTAKES}
        names = [n for n, _ in shared.named_parameters()]
        for step, ((g_norm, g_shared, g_local), (r_norm, r_shared, r_local)) in enumerate(zip(got, ref)):
            where = f"worker_update ({label}), update {step + 1} of {len(inputs)}"
            for k, name in enumerate(names):
                checks.check_close(g_shared[k], r_shared[k], f"{where}: shared parameter {name!r} after the update",
                                   atol=1e-5, rtol=1e-4,
                                   mistakes={m: w[step][1][k] for m, w in wrong.items()},
                                   hint="The shared model must take exactly one optimizer step with the local, "
                                        "clipped gradient of this update.")
            for k, name in enumerate(names):
                checks.check_close(g_local[k], r_local[k], f"{where}: local parameter {name!r} after the update",
                                   atol=1e-5, rtol=1e-4,
                                   mistakes={HANDOFF_MISTAKES["no_sync"]: wrong[HANDOFF_MISTAKES["no_sync"]][step][2][k]},
                                   hint="After the step, copy the shared parameters into the local model.")
            checks.check_type(g_norm, (float, int, np.floating, torch.Tensor), f"{where}: the returned norm")
            checks.check_close(float(g_norm), r_norm, f"{where}: the returned gradient norm", atol=1e-4, rtol=1e-4,
                               mistakes={"the norm after clipping instead of before (return what "
                                         "clip_grad_norm_ returns)": min(r_norm, max_norm)})
        for (name, sp), lp in zip(shared.named_parameters(), local.parameters()):
            assert sp.is_shared(), (
                f"worker_update ({label}): the shared parameter {name!r} is no longer in shared memory: it was "
                "replaced by a new tensor (assign to .grad and let the optimizer update in place; never "
                "rebind .data), so other workers would not see the update")
            assert lp.data_ptr() != sp.data_ptr(), (
                f"worker_update ({label}): the local parameter {name!r} shares memory with the shared model. A "
                "worker keeps its own copy (copy values, e.g. local_p.copy_(shared_p)); otherwise other workers "
                "change its weights in the middle of its rollout and of backward()")
        assert shared.unused.grad is None, (
            "worker_update: a parameter that the loss does not reach has .grad None locally; its shared "
            "gradient must stay None too (an optimizer skips it), not become zeros or a stale tensor")
        if optimizer == "adam":
            steps = {float(opt.state[p]["step"]) for p in shared.parameters() if p.grad is not None}
            assert steps == {float(len(inputs))}, (
                f"worker_update (Adam): after {len(inputs)} updates the optimizer's step count is "
                f"{sorted(steps)}: call shared_optimizer.step() exactly once per update")


# ---- the asynchronous Q-learning targets


def hidden_q_targets(fn) -> None:
    rng = np.random.default_rng(509)
    for method in ("q", "sarsa", "n-step"):
        for i in range(8):
            T, N, A = int(rng.integers(1, 9)), int(rng.integers(1, 5)), int(rng.integers(2, 5))
            if i == 0:
                T, N = 1, 1
            rewards, terminated, truncated, _ = random_rollout(rng, T, N, p_term=0.25, p_trunc=0.2)
            next_q = torch.tensor(rng.normal(scale=3.0, size=(T, N, A)).round(2), dtype=torch.float32)
            next_actions = torch.tensor(rng.integers(0, A, size=(T, N)), dtype=torch.int64)
            gamma = float(rng.choice([0.5, 0.9, 0.99]))
            name = f"q_targets(method={method!r}, T={T}, N={N}, A={A}, gamma={gamma}, case #{i})"
            args = [x.clone() for x in (rewards, terminated, truncated, next_q, next_actions)]
            nq = args[3].requires_grad_(True) if i == 1 else args[3]
            got = _call_quietly(fn, args[0], args[1], args[2], nq, args[4], gamma, method)
            checks.check_type(got, torch.Tensor, name)
            checks.check_shape(got, (T, N), name)
            assert not got.requires_grad, (f"{name}: the targets carry gradient; the target network's "
                                           "values must be detached")
            checks.check_close(got, q_targets(rewards, terminated, truncated, next_q, next_actions, gamma, method),
                               name, atol=1e-4, rtol=1e-5,
                               mistakes=q_target_mistakes(rewards, terminated, truncated, next_q, next_actions,
                                                          gamma, method))
