"""Reference implementations and hidden-check helpers for chapter 03 (instructors only).

Hidden test cells load this file fresh with ``course_lib.grading.load_reference("03_dqn")``.
It holds the reference pieces of DQN and its improvements, the known mistakes (what a typical wrong
answer returns, so that a failing check can name it) and one ``hidden_<exercise>`` per exercise.
Notebook 03a: ReplayBuffer, linear_epsilon, td_target, huber_loss, dqn_update.
Notebook 03b: double_dqn_target, dueling_aggregate, SumTree, importance_weights.
"""
from __future__ import annotations

import copy
import warnings
from collections import namedtuple

import numpy as np
import torch
import torch.nn as nn

Batch = namedtuple("Batch", "obs actions rewards next_obs terminated truncated weights indices",
                   defaults=(None, None))

# ---------------------------------------------------------------- references: 03a


class ReplayBuffer:
    def __init__(self, capacity, obs_dim, seed=0):
        self.capacity = int(capacity)
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.truncated = np.zeros(capacity, dtype=np.float32)
        self.pos, self.size = 0, 0
        self.rng = np.random.default_rng(seed)

    def add(self, obs, action, reward, next_obs, terminated, truncated):
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i], self.truncated[i] = next_obs, terminated, truncated
        self.pos = (self.pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def __len__(self):
        return self.size

    def get(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        return Batch(torch.as_tensor(self.obs[idx]), torch.as_tensor(self.actions[idx]),
                     torch.as_tensor(self.rewards[idx]), torch.as_tensor(self.next_obs[idx]),
                     torch.as_tensor(self.terminated[idx]), torch.as_tensor(self.truncated[idx]))

    def sample(self, batch_size):
        return self.get(self.rng.integers(0, self.size, size=batch_size))


def linear_epsilon(step, start, end, decay_steps):
    return float(start + (end - start) * min(1.0, step / decay_steps))


def td_target(target_net, batch, gamma):
    with torch.no_grad():
        next_q = target_net(batch.next_obs).max(dim=1).values
        return batch.rewards + gamma * (1.0 - batch.terminated) * next_q


def huber_loss(errors, delta=1.0):
    a = errors.abs()
    return torch.where(a <= delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta))


def dqn_update(online_net, optimizer, batch, targets, weights=None, max_grad_norm=10.0):
    q = online_net(batch.obs).gather(1, batch.actions.long().unsqueeze(1)).squeeze(1)
    td = targets - q
    per_sample = huber_loss(td)
    loss = per_sample.mean() if weights is None else (weights * per_sample).mean()
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(online_net.parameters(), max_grad_norm)
    optimizer.step()
    return float(loss.item()), td.detach()


# ---------------------------------------------------------------- references: 03b


def double_dqn_target(online_net, target_net, batch, gamma):
    with torch.no_grad():
        best = online_net(batch.next_obs).argmax(dim=1, keepdim=True)
        next_q = target_net(batch.next_obs).gather(1, best).squeeze(1)
        return batch.rewards + gamma * (1.0 - batch.terminated) * next_q


def dueling_aggregate(value, advantages):
    return value + advantages - advantages.mean(dim=1, keepdim=True)


class SumTree:
    def __init__(self, capacity):
        self.capacity = int(capacity)
        self.tree = np.zeros(2 * self.capacity)

    def total(self):
        return float(self.tree[1])

    def update(self, indices, priorities):
        nodes = np.asarray(indices, dtype=np.int64) + self.capacity
        self.tree[nodes] = priorities
        nodes = nodes // 2
        while nodes[0] >= 1:   # all leaves are at the same depth: one level per iteration
            self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes + 1]
            nodes = nodes // 2

    def find(self, values):
        values = np.array(values, dtype=np.float64)
        nodes = np.ones(len(values), dtype=np.int64)
        while nodes[0] < self.capacity:
            left = 2 * nodes
            right = values >= self.tree[left]
            values = np.where(right, values - self.tree[left], values)
            nodes = left + right
        return nodes - self.capacity


def importance_weights(probs, n, beta):
    w = (n * np.asarray(probs, dtype=np.float64)) ** (-beta)
    return w / w.max()


# ---------------------------------------------------------------- test inputs


def make_mlp(seed, obs_dim=4, n_actions=3, hidden=16, scale=1.0):
    """A small seeded MLP (B, obs_dim) -> (B, n_actions)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, n_actions))
    if scale != 1.0:
        with torch.no_grad():
            for p in net.parameters():
                p.mul_(scale)
    return net


def random_batch(rng, B, obs_dim=4, n_actions=3, p_term=0.3, p_trunc=0.3):
    """A Batch of seeded random transitions with a mix of terminated and truncated steps."""
    terminated = (rng.random(B) < p_term).astype(np.float32)
    truncated = ((rng.random(B) < p_trunc) & (terminated == 0)).astype(np.float32)
    if B >= 3:  # at least one of each kind
        terminated[0], truncated[0] = 1.0, 0.0
        terminated[1], truncated[1] = 0.0, 1.0
        terminated[2], truncated[2] = 0.0, 0.0
    return Batch(obs=torch.as_tensor(rng.normal(size=(B, obs_dim)), dtype=torch.float32),
                 actions=torch.as_tensor(rng.integers(0, n_actions, size=B), dtype=torch.int64),
                 rewards=torch.as_tensor(rng.normal(size=B), dtype=torch.float32),
                 next_obs=torch.as_tensor(rng.normal(size=(B, obs_dim)), dtype=torch.float32),
                 terminated=torch.as_tensor(terminated), truncated=torch.as_tensor(truncated))


def _clone_batch(batch):
    return Batch(*[None if t is None else t.clone() for t in batch])


def _same_batch(a, b) -> bool:
    return all((x is None and y is None) or torch.equal(x, y) for x, y in zip(a, b))


def _quiet():
    """Hidden checks must not write to stderr (nbgrader scores such a cell 0)."""
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


# ---------------------------------------------------------------- hidden checks: 03a
# ``checks`` is a fresh copy of course_lib.checks, attached by course_lib.grading.load_reference.


def _transition(k, obs_dim):
    """Transition number k of the buffer checks: every field encodes k."""
    obs = np.full(obs_dim, float(k), dtype=np.float32) + np.arange(obs_dim, dtype=np.float32) / 10
    return (obs, k % 3, float(k + 1), obs + 100.0, k % 2 == 1, k % 3 == 0)


def _expected_rows(ks, obs_dim):
    rows = [_transition(k, obs_dim) for k in ks]
    return dict(obs=np.stack([r[0] for r in rows]), actions=[r[1] for r in rows], rewards=[r[2] for r in rows],
                next_obs=np.stack([r[3] for r in rows]), terminated=[float(r[4]) for r in rows],
                truncated=[float(r[5]) for r in rows])


def hidden_ReplayBuffer(cls) -> None:
    ctx = _quiet()
    try:
        _hidden_replay(cls)
    finally:
        ctx.__exit__(None, None, None)


def _hidden_replay(cls) -> None:
    for obs_dim in (1, 4):
        buf = cls(capacity=4, obs_dim=obs_dim, seed=0)
        checks.check_close(len(buf), 0, "len of an empty buffer")
        for k in range(2):
            buf.add(*_transition(k, obs_dim))
        checks.check_close(len(buf), 2, "len after 2 adds to a buffer of capacity 4")
        for k in range(2, 10):
            buf.add(*_transition(k, obs_dim))
        checks.check_close(len(buf), 4, "len after 10 adds to a buffer of capacity 4",
                           mistakes={"len counts every add, not the transitions kept": 10})
        got = buf.get(np.arange(4))
        want = _expected_rows([8, 9, 6, 7], obs_dim)  # transition k lives in slot k % 4
        checks.check_close(got.rewards, want["rewards"], f"rewards of slots 0-3 after 10 adds (capacity 4, obs_dim={obs_dim})",
                           mistakes={"the buffer stopped storing once full (no wrap-around)": [1.0, 2.0, 3.0, 4.0],
                                     "the write position is off by one": [10.0, 7.0, 8.0, 9.0],
                                     "the write position is off by one (other way)": [8.0, 9.0, 10.0, 7.0]})
        for field in ("obs", "next_obs", "actions", "terminated", "truncated"):
            checks.check_close(getattr(got, field), want[field], f"{field} of slots 0-3 after 10 adds (obs_dim={obs_dim})")
        assert torch.is_tensor(got.obs) and got.obs.dtype == torch.float32, \
            f"get(...).obs must be a float32 torch tensor, got {type(got.obs).__name__} {getattr(got.obs, 'dtype', '')}"
        checks.check_shape(got.obs, (4, obs_dim), "get(4 slots).obs")
        checks.check_shape(got.next_obs, (4, obs_dim), "get(4 slots).next_obs")
        for field, dtype in (("actions", torch.int64), ("rewards", torch.float32), ("terminated", torch.float32),
                             ("truncated", torch.float32)):
            value = getattr(got, field)
            assert torch.is_tensor(value) and value.dtype == dtype, \
                f"get(...).{field} must be a {dtype} tensor, got {type(value).__name__} {getattr(value, 'dtype', '')}"
            checks.check_shape(value, (4,), f"get(4 slots).{field}")
        assert getattr(got, "weights", None) is None and getattr(got, "indices", None) is None, \
            "a uniform buffer's Batch leaves weights and indices as None"
        one = buf.sample(1)
        checks.check_shape(one.obs, (1, obs_dim), "sample(1).obs")
        checks.check_shape(one.rewards, (1,), "sample(1).rewards")

    # samples only from stored transitions, uniformly, rows consistent, newest included
    buf = cls(capacity=100, obs_dim=3, seed=5)
    for k in range(3):
        buf.add(*_transition(k, 3))
    draws = [buf.sample(64) for _ in range(94)]  # 6016 draws
    rewards = torch.cat([b.rewards for b in draws]).numpy()
    if (rewards == 0).any():
        raise AssertionError("sample drew empty slots (reward 0, never stored): draw indices among the "
                             "len(self) stored transitions, not among all capacity slots")
    counts = np.array([(rewards == k + 1).sum() for k in range(3)])
    if counts[2] == 0:
        raise AssertionError("the newest stored transition is never sampled: an off-by-one in the sampling "
                             "range (rng.integers(0, n) already excludes n)")
    freq = counts / counts.sum()
    assert np.all(np.abs(freq - 1 / 3) <= 0.1), (
        f"with 3 stored transitions each should be drawn about 1/3 of the time; frequencies {freq.round(3).tolist()}")
    for b in draws[:5]:
        k = b.rewards.numpy() - 1
        checks.check_close(b.obs[:, 0], k, "sampled obs[:, 0] against the sampled rewards (rows must come from "
                           "the same transition: use the same indices for every field)")
        checks.check_close(b.next_obs[:, 0], k + 100, "sampled next_obs[:, 0] against the sampled rewards")
        checks.check_close(b.actions, k % 3, "sampled actions against the sampled rewards")
    big = buf.sample(64)
    checks.check_shape(big.obs, (64, 3), "sample(64).obs")

    # after wrap-around: the 4 newest of 10
    buf = cls(capacity=4, obs_dim=2, seed=1)
    for k in range(10):
        buf.add(*_transition(k, 2))
    seen = set(torch.cat([buf.sample(50).rewards for _ in range(10)]).tolist())
    assert seen == {7.0, 8.0, 9.0, 10.0}, (
        f"after 10 adds to capacity 4, samples must be among transitions 6-9 (rewards 7-10) and include all "
        f"of them; got rewards {sorted(seen)}")

    # the same seed gives the same samples (self.rng is the only randomness)
    a, b = cls(capacity=50, obs_dim=2, seed=11), cls(capacity=50, obs_dim=2, seed=11)
    for k in range(30):
        a.add(*_transition(k, 2))
        b.add(*_transition(k, 2))
    np.random.seed(1)
    ra = a.sample(20).rewards
    np.random.seed(2)
    torch.manual_seed(2)
    rb = b.sample(20).rewards
    assert torch.equal(ra, rb), ("two buffers with the same seed and contents gave different samples: draw "
                                 "the indices with self.rng = np.random.default_rng(seed)")


def hidden_linear_epsilon(fn) -> None:
    rng = np.random.default_rng(2)
    cases = [(0, 1.0, 0.05, 1000), (1000, 1.0, 0.05, 1000), (5000, 1.0, 0.05, 1000), (250, 0.5, 0.1, 500),
             (7, 0.0, 1.0, 10), (30, 0.0, 1.0, 10)]
    for _ in range(24):
        decay = int(rng.integers(1, 20_000))
        cases.append((int(rng.integers(0, 3 * decay + 1)), float(rng.uniform(0.2, 1)), float(rng.uniform(0, 0.2)), decay))
    for step, start, end, decay in cases:
        got = fn(step, start, end, decay)
        checks.check_type(got, float, f"linear_epsilon({step}, {start:.3f}, {end:.3f}, {decay})")
        frac = step / decay
        checks.check_close(got, linear_epsilon(step, start, end, decay),
                           f"linear_epsilon({step}, start={start:.3f}, end={end:.3f}, decay_steps={decay})",
                           atol=1e-9, rtol=1e-9,
                           mistakes={"epsilon keeps changing after decay_steps (clip the fraction at 1)":
                                     start + (end - start) * frac,
                                     "start and end swapped": end + (start - end) * min(1.0, frac),
                                     "exponential instead of linear decay": start * (end / start) ** min(1.0, frac)
                                     if start > 0 and end > 0 else float("nan")})


def td_mistakes(target_net, batch, gamma):
    with torch.no_grad():
        q = target_net(batch.next_obs)
        done = torch.clamp(batch.terminated + batch.truncated, max=1.0)
        return {
            "no terminal mask: bootstrapping through terminated steps": batch.rewards + gamma * q.max(1).values,
            "truncated treated as terminal (the mask must use terminated only: a time limit is not the end "
            "of the task)": batch.rewards + gamma * (1 - done) * q.max(1).values,
            "gamma missing from the bootstrap term": batch.rewards + (1 - batch.terminated) * q.max(1).values,
            "mean over actions instead of max": batch.rewards + gamma * (1 - batch.terminated) * q.mean(1),
            "min over actions instead of max": batch.rewards + gamma * (1 - batch.terminated) * q.min(1).values,
            "the mask is inverted (1 - terminated bootstraps only at the end)":
                batch.rewards + gamma * batch.terminated * q.max(1).values,
        }


def _check_no_grad(y, nets, name):
    if torch.is_tensor(y) and (y.requires_grad or y.grad_fn is not None):
        raise AssertionError(f"{name}: the target carries gradient (requires_grad=True): compute it under "
                             "torch.no_grad() or .detach() it. Otherwise the loss's gradient also flows into the "
                             "network that made the target, and the target moves towards the prediction.")
    for net in nets:
        for p in net.parameters():
            if p.grad is not None and p.grad.abs().sum() > 0:
                raise AssertionError(f"{name}: gradients reached the target network's parameters")


def hidden_td_target(fn) -> None:
    ctx = _quiet()
    try:
        rng = np.random.default_rng(303)
        for i, B in enumerate([1, 7, 64] * 4):
            n_actions = 2 + i % 3
            net = make_mlp(100 + i, n_actions=n_actions, scale=3.0)
            batch = random_batch(rng, B, n_actions=n_actions)
            keep = _clone_batch(batch)
            gamma = float(rng.uniform(0.5, 0.999))
            state = copy.deepcopy(net.state_dict())
            y = fn(net, batch, gamma)
            assert torch.is_tensor(y), f"td_target must return a torch tensor, got {type(y).__name__}"
            checks.check_shape(y, (B,), f"td_target(...) for a batch of {B}")
            _check_no_grad(y, [net], f"td_target (batch of {B})")
            assert _same_batch(batch, keep), "td_target changed the batch in place (e.g. rewards += ...): build a new tensor"
            assert all(torch.equal(v, state[k]) for k, v in net.state_dict().items()), \
                "td_target changed the target network's parameters"
            checks.check_close(y, td_target(net, batch, gamma), f"targets (random batch #{i}, B={B}, gamma={gamma:.3f})",
                               atol=1e-5, rtol=1e-5, mistakes=td_mistakes(net, batch, gamma))
    finally:
        ctx.__exit__(None, None, None)


def huber_mistakes(x, delta):
    a = x.abs()
    return {
        "squared error everywhere (0.5 x^2)": 0.5 * x ** 2,
        "x^2 without the factor 1/2": torch.where(a <= delta, x ** 2, delta * (a - 0.5 * delta)),
        "absolute error everywhere": a,
        "the linear part misses the factor delta (that is smooth_l1 with beta=delta)":
            torch.where(a <= delta, 0.5 * x ** 2 / delta, a - 0.5 * delta),
        "the linear part is delta * |x| (without - delta/2: the two pieces do not meet)":
            torch.where(a <= delta, 0.5 * x ** 2, delta * a),
    }


def hidden_huber_loss(fn) -> None:
    ctx = _quiet()
    try:
        gen = torch.Generator().manual_seed(404)
        for shape in ((64,), (5, 3)):
            for delta in (0.5, 1.0, 2.0, 10.0):
                x = (torch.randn(shape, generator=gen) * 3 * delta).requires_grad_(True)
                x_ref = x.detach().clone().requires_grad_(True)
                got = fn(x, delta=delta) if delta != 1.0 else fn(x)
                assert torch.is_tensor(got), f"huber_loss must return a tensor, got {type(got).__name__}"
                checks.check_shape(got, shape, f"huber_loss of errors of shape {shape} (elementwise, no mean)")
                want = huber_loss(x_ref, delta)
                checks.check_close(got, want, f"huber_loss(x, delta={delta}) on {shape} errors", atol=1e-6, rtol=1e-6,
                                   mistakes=huber_mistakes(x.detach(), delta))
                assert got.requires_grad, "huber_loss must stay differentiable (no .detach(), .item() or numpy inside)"
                got.sum().backward()
                want.sum().backward()
                checks.check_close(x.grad, x_ref.grad, f"gradient of huber_loss (delta={delta}): clip(x, -delta, delta)",
                                   atol=1e-6, rtol=1e-6)
    finally:
        ctx.__exit__(None, None, None)


def _update_variant(net, opt, batch, targets, weights, max_norm, loss_kind="huber", clip=True, use_weights=True,
                    reduce="mean", pick="gather", zero_grad=True):
    q_all = net(batch.obs)
    q = q_all.gather(1, batch.actions.long().unsqueeze(1)).squeeze(1) if pick == "gather" else q_all.max(1).values
    td = targets - q
    per = huber_loss(td) if loss_kind == "huber" else 0.5 * td ** 2 if loss_kind == "mse" else td ** 2
    if weights is not None and use_weights:
        per = weights * per
    loss = per.mean() if reduce == "mean" else per.sum()
    if zero_grad:
        opt.zero_grad()
    loss.backward()
    if clip:
        nn.utils.clip_grad_norm_(net.parameters(), max_norm)
    opt.step()
    return float(loss.item()), td.detach()


def _params(net):
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def hidden_dqn_update(fn) -> None:
    ctx = _quiet()
    try:
        _hidden_dqn_update(fn)
    finally:
        ctx.__exit__(None, None, None)


def _hidden_dqn_update(fn) -> None:
    rng = np.random.default_rng(505)
    cases = [(1, False, "sgd", 10.0, 1.0), (8, True, "sgd", 10.0, 1.0), (64, False, "adam", 10.0, 1.0),
             (64, True, "sgd", 0.5, 20.0), (8, False, "sgd", 0.5, 20.0), (64, True, "adam", 1.0, 5.0)]
    for i, (B, weighted, opt_name, max_norm, target_scale) in enumerate(cases):
        n_actions = 2 + i % 2
        base = make_mlp(200 + i, n_actions=n_actions)
        batch = random_batch(rng, B, n_actions=n_actions)
        targets = torch.as_tensor(rng.normal(size=B) * target_scale, dtype=torch.float32)
        weights = torch.as_tensor(rng.uniform(0.1, 1.0, size=B), dtype=torch.float32) if weighted else None
        make_opt = (lambda p: torch.optim.SGD(p, lr=0.05)) if opt_name == "sgd" else (lambda p: torch.optim.Adam(p, lr=1e-2))

        def fresh(stale=True):
            net = copy.deepcopy(base)
            opt = make_opt(net.parameters())
            if stale:  # gradients left over from an earlier backward pass
                for p in net.parameters():
                    p.grad = torch.full_like(p, 0.7)
            return net, opt

        net, opt = fresh()
        keep = _clone_batch(batch)
        keep_targets = targets.clone()
        out = fn(net, opt, batch, targets, weights, max_norm) if weighted or i % 2 else \
            fn(net, opt, batch, targets, max_grad_norm=max_norm)
        assert isinstance(out, tuple) and len(out) == 2, \
            f"dqn_update must return a tuple (loss, td_errors), got {type(out).__name__}"
        loss, td = out
        checks.check_type(loss, float, "the loss returned by dqn_update (use loss.item())")
        assert _same_batch(batch, keep) and torch.equal(targets, keep_targets), "dqn_update changed its inputs in place"
        ref_net, ref_opt = fresh()
        ref_loss, ref_td = _update_variant(ref_net, ref_opt, batch, targets, weights, max_norm)
        name = f"case #{i} (B={B}, {opt_name}, weights={'yes' if weighted else 'no'}, max_grad_norm={max_norm})"

        variants = {"squared error instead of Huber": dict(loss_kind="mse"),
                    "gradient norm not clipped (clip_grad_norm_ before optimizer.step())": dict(clip=False),
                    "sum instead of mean over the batch": dict(reduce="sum"),
                    "max_a Q(s, a) instead of Q(s, a) of the taken action (use gather)": dict(pick="max"),
                    "optimizer.zero_grad() missing: stale gradients were added to this step": dict(zero_grad=False)}
        if weighted:
            variants["the weights are ignored"] = dict(use_weights=False)
        wrong_loss, wrong_params = {}, {}
        for desc, kw in variants.items():
            n2, o2 = fresh()
            wl, _ = _update_variant(n2, o2, batch, targets, weights, max_norm, **kw)
            wrong_loss[desc], wrong_params[desc] = wl, _params(n2)
        checks.check_close(loss, ref_loss, f"loss, {name}", atol=1e-5, rtol=1e-5,
                           mistakes={k: v for k, v in wrong_loss.items() if abs(v - ref_loss) > 1e-4})
        assert torch.is_tensor(td) and not td.requires_grad, "td_errors must be a tensor without gradient (.detach())"
        checks.check_shape(td, (B,), f"td_errors, {name}")
        checks.check_close(td.abs(), ref_td.abs(), f"|td_errors| (targets - Q(s, a)), {name}", atol=1e-5, rtol=1e-5)
        got_params, want_params = _params(net), _params(ref_net)
        if checks.is_close(got_params, _params(base), atol=0, rtol=0):
            raise AssertionError(f"{name}: the parameters did not change: call optimizer.step() after loss.backward()")
        checks.check_close(got_params, want_params, f"parameters after the step, {name}", atol=1e-5, rtol=1e-4,
                           mistakes={k: v for k, v in wrong_params.items() if not checks.is_close(v, want_params, 1e-5, 1e-4)})


# ---------------------------------------------------------------- hidden checks: 03b


def double_mistakes(online, target, batch, gamma):
    with torch.no_grad():
        qo, qt = online(batch.next_obs), target(batch.next_obs)
        mask = 1.0 - batch.terminated
        done = 1.0 - torch.clamp(batch.terminated + batch.truncated, max=1.0)
        chosen = qt.gather(1, qo.argmax(1, keepdim=True)).squeeze(1)
        return {
            "max over the target network: that is plain DQN's target, not Double DQN's "
            "(pick a' = argmax of the ONLINE network, then evaluate it with the TARGET network)":
                batch.rewards + gamma * mask * qt.max(1).values,
            "max over the online network (the online network must only choose a', the target network evaluates it)":
                batch.rewards + gamma * mask * qo.max(1).values,
            "roles swapped: a' chosen by the target network and evaluated by the online network":
                batch.rewards + gamma * mask * qo.gather(1, qt.argmax(1, keepdim=True)).squeeze(1),
            "no terminal mask: bootstrapping through terminated steps": batch.rewards + gamma * chosen,
            "truncated treated as terminal (mask with terminated only)": batch.rewards + gamma * done * chosen,
        }


def hidden_double_dqn_target(fn) -> None:
    ctx = _quiet()
    try:
        rng = np.random.default_rng(606)
        for i, B in enumerate([1, 9, 64] * 4):
            n_actions = 3 + i % 3
            online = make_mlp(300 + i, n_actions=n_actions, scale=3.0)
            target = make_mlp(400 + i, n_actions=n_actions, scale=3.0)
            batch = random_batch(rng, B, n_actions=n_actions)
            keep = _clone_batch(batch)
            gamma = float(rng.uniform(0.5, 0.999))
            states = [copy.deepcopy(online.state_dict()), copy.deepcopy(target.state_dict())]
            y = fn(online, target, batch, gamma)
            assert torch.is_tensor(y), f"double_dqn_target must return a torch tensor, got {type(y).__name__}"
            checks.check_shape(y, (B,), f"double_dqn_target(...) for a batch of {B}")
            _check_no_grad(y, [online, target], f"double_dqn_target (batch of {B})")
            assert _same_batch(batch, keep), "double_dqn_target changed the batch in place"
            for net, state in zip((online, target), states):
                assert all(torch.equal(v, state[k]) for k, v in net.state_dict().items()), \
                    "double_dqn_target changed a network's parameters"
            checks.check_close(y, double_dqn_target(online, target, batch, gamma),
                               f"Double DQN targets (random batch #{i}, B={B}, {n_actions} actions, gamma={gamma:.3f})",
                               atol=1e-5, rtol=1e-5, mistakes=double_mistakes(online, target, batch, gamma))
    finally:
        ctx.__exit__(None, None, None)


def dueling_mistakes(value, adv):
    out = {
        "no mean subtraction (Q = V + A): V and A are not identifiable, any constant can move between them":
            value + adv,
        "max subtraction instead of the mean (the paper's first variant; this exercise asks for the mean)":
            value + adv - adv.max(dim=1, keepdim=True).values,
        "mean over the batch axis (dim=0) instead of over actions (dim=1)": value + adv - adv.mean(dim=0, keepdim=True),
        "mean over all elements instead of over each row's actions": value + adv - adv.mean(),
        "V missing": adv - adv.mean(dim=1, keepdim=True),
    }
    if adv.shape[0] == adv.shape[1]:
        out["A.mean(dim=1) without keepdim=True: the (B,) means broadcast against (B, A) along the wrong axis"] = \
            value + adv - adv.mean(dim=1)[None, :]
    return out


def hidden_dueling_aggregate(fn) -> None:
    ctx = _quiet()
    try:
        gen = torch.Generator().manual_seed(707)
        for B, A in ((1, 2), (3, 3), (4, 4), (5, 3), (32, 6)):   # square cases first: a broadcasting bug is named
            value = torch.randn(B, 1, generator=gen).requires_grad_(True)
            adv = (torch.randn(B, A, generator=gen) * 2).requires_grad_(True)
            v_ref, a_ref = value.detach().clone().requires_grad_(True), adv.detach().clone().requires_grad_(True)
            keep_v, keep_a = value.detach().clone(), adv.detach().clone()
            got = fn(value, adv)
            assert torch.is_tensor(got), f"dueling_aggregate must return a tensor, got {type(got).__name__}"
            checks.check_shape(got, (B, A), f"dueling_aggregate(value (B={B}, 1), advantages ({B}, {A}))")
            assert torch.equal(value.detach(), keep_v) and torch.equal(adv.detach(), keep_a), \
                "dueling_aggregate changed its inputs in place"
            want = dueling_aggregate(v_ref, a_ref)
            checks.check_close(got, want, f"Q of the dueling aggregation (B={B}, A={A})", atol=1e-6, rtol=1e-6,
                               mistakes=dueling_mistakes(value.detach(), adv.detach()))
            assert got.requires_grad, "dueling_aggregate must stay differentiable"
            w = torch.randn(B, A, generator=gen)
            (got * w).sum().backward()
            (want * w).sum().backward()
            checks.check_close(value.grad, v_ref.grad, f"gradient reaching the value stream (B={B}, A={A})", atol=1e-6)
            checks.check_close(adv.grad, a_ref.grad, f"gradient reaching the advantage stream (B={B}, A={A})", atol=1e-6,
                               hint="Is the mean detached? The mean subtraction is part of the model: gradients flow through it.")
    finally:
        ctx.__exit__(None, None, None)


def _find_variant(tree, capacity, values, strict=False, shift=0):
    values = np.array(values, dtype=np.float64)
    nodes = np.ones(len(values), dtype=np.int64)
    while nodes[0] < capacity:
        left = 2 * nodes
        right = values > tree[left] if strict else values >= tree[left]
        values = np.where(right, values - tree[left], values)
        nodes = left + right
    return nodes - capacity + shift


def _tree_find_mistakes(ref, values):
    return {
        "at a value equal to the sum of the priorities to the left, find went left: compare with >= "
        "(value >= left sum goes right, subtracting the left sum)": _find_variant(ref.tree, ref.capacity, values, strict=True),
        "the leaf index is off by one (leaf i is node capacity + i)": _find_variant(ref.tree, ref.capacity, values, shift=-1),
        "the leaf index is off by one (other way)": _find_variant(ref.tree, ref.capacity, values, shift=1),
    }


def hidden_SumTree(cls) -> None:
    ctx = _quiet()
    try:
        _hidden_sumtree(cls)
    finally:
        ctx.__exit__(None, None, None)


def _hidden_sumtree(cls) -> None:
    rng = np.random.default_rng(808)
    for capacity in (2, 8, 64, 1024):
        tree, ref = cls(capacity), SumTree(capacity)
        checks.check_close(tree.total(), 0.0, f"total() of an empty SumTree({capacity})")
        assert hasattr(tree, "tree"), "the SumTree keeps its nodes in self.tree (an array of 2 * capacity floats)"
        checks.check_shape(tree.tree, (2 * capacity,), f"SumTree({capacity}).tree")
        p = rng.integers(0, 6, size=capacity).astype(float)
        p[rng.integers(capacity)] = 3.0   # at least one positive priority
        tree.update(np.arange(capacity), p.copy())
        ref.update(np.arange(capacity), p.copy())
        checks.check_type(tree.total(), (float, np.floating), "total()")
        checks.check_close(tree.total(), p.sum(), f"total() after setting {capacity} priorities (capacity {capacity})",
                           atol=1e-9, rtol=1e-12)
        checks.check_close(np.asarray(tree.tree)[capacity:], p, f"the leaves tree[capacity:] (capacity {capacity})",
                           atol=1e-12, mistakes={"leaves stored one slot to the left (leaf i must be node capacity + i)":
                                                 np.r_[p[1:], 0.0]})
        checks.check_close(np.asarray(tree.tree)[1:], ref.tree[1:], f"every internal node holds the sum of its two "
                           f"children (capacity {capacity})", atol=1e-9)
        prefix = np.concatenate([[0.0], np.cumsum(p)])
        positive = np.flatnonzero(p > 0)
        boundary = prefix[positive]                       # exactly the left edge of each positive leaf
        inside = prefix[positive] + p[positive] * 0.5
        last = np.array([p.sum() - 1e-9])
        for name, values in (("values equal to the left edge of each leaf's interval", boundary),
                             ("values inside each leaf's interval", inside), ("a value just below total()", last),
                             ("seeded uniform values in [0, total)", rng.uniform(0, p.sum(), size=200))):
            got = tree.find(values.copy())
            checks.check_shape(got, values.shape, f"find({len(values)} values)")
            got = np.asarray(got)
            assert np.issubdtype(got.dtype, np.integer), f"find must return integer indices, got dtype {got.dtype}"
            checks.check_close(got, ref.find(values), f"find: {name} (capacity {capacity})", atol=0, rtol=0,
                               mistakes=_tree_find_mistakes(ref, values))
            assert np.all(p[got] > 0), "find returned a leaf of priority 0: such a transition must never be sampled"
        # partial updates, with repeated indices (same priority), then single updates as in add()
        for _ in range(3):
            k = int(rng.integers(1, capacity + 1))
            idx = rng.integers(0, capacity, size=k)
            new = rng.integers(1, 9, size=capacity).astype(float)[idx]
            new = {int(i): v for i, v in zip(idx, new)}
            idx = np.array(list(new) + list(new)[:2], dtype=np.int64)
            vals = np.array([new[int(i)] for i in idx])
            tree.update(idx.copy(), vals.copy())
            ref.update(idx.copy(), vals.copy())
            p[idx] = vals
            checks.check_close(tree.total(), p.sum(), f"total() after updating {len(idx)} leaves (capacity {capacity}): "
                               "every ancestor of a changed leaf must be recomputed", atol=1e-9, rtol=1e-12)
            values = rng.uniform(0, p.sum(), size=100)
            checks.check_close(np.asarray(tree.find(values.copy())), ref.find(values), f"find after a partial update "
                               f"(capacity {capacity})", atol=0, rtol=0, mistakes=_tree_find_mistakes(ref, values))
        for j in range(5):
            i = int(rng.integers(capacity))
            tree.update(np.array([i]), np.array([float(j + 1)]))
            ref.update(np.array([i]), np.array([float(j + 1)]))
            p[i] = j + 1
        checks.check_close(tree.total(), p.sum(), f"total() after single-leaf updates (capacity {capacity})", atol=1e-9)
    # the example of the notebook, with zeros around
    tree = cls(8)
    tree.update(np.arange(8), np.array([0, 3, 0, 0, 5, 0, 0, 0], dtype=float))
    got = np.asarray(tree.find(np.array([0.0, 2.999, 3.0, 7.999])))
    checks.check_close(got, [1, 1, 4, 4], "find([0, 2.999, 3, 7.999]) with priorities [0, 3, 0, 0, 5, 0, 0, 0]",
                       atol=0, rtol=0)


def weight_mistakes(probs, n, beta):
    w = (n * probs) ** (-beta)
    return {
        "not normalized by the largest weight": w,
        "normalized by the sum instead of the max": w / w.sum(),
        "exponent +beta instead of -beta": (n * probs) ** beta / ((n * probs) ** beta).max(),
        "normalized by the smallest weight instead of the largest": w / w.min(),
    }


def hidden_importance_weights(fn) -> None:
    rng = np.random.default_rng(909)
    cases = [(np.array([0.5]), 10, 0.4), (np.array([0.1, 0.1, 0.1]), 30, 1.0), (np.array([0.01, 0.02, 0.04]), 50, 0.0)]
    for _ in range(12):
        B = int(rng.integers(2, 65))
        n = int(rng.choice([10, 1000, 100_000]))
        probs = rng.dirichlet(np.ones(n) * 0.5)[:B] + 1e-9
        cases.append((probs, n, float(rng.choice([0.4, 0.7, 1.0]))))
    for probs, n, beta in cases:
        got = fn(probs.copy(), n, beta)
        assert isinstance(got, np.ndarray), f"importance_weights must return a numpy array, got {type(got).__name__}"
        checks.check_shape(got, probs.shape, f"importance_weights of {len(probs)} probabilities")
        checks.check_close(got, importance_weights(probs, n, beta),
                           f"importance weights (B={len(probs)}, n={n}, beta={beta})", atol=1e-9, rtol=1e-6,
                           mistakes=weight_mistakes(probs, n, beta))
