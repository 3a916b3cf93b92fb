"""Wrong answers for chapter 03 (see __init__.py for the format).

Notebook 3a: ReplayBuffer, linear_epsilon, td_target, huber_loss, dqn_update.
Notebook 3b: double_dqn_target, dueling_aggregate, SumTree, importance_weights.
"""

NO_TERMINAL_MASK = '''
def td_target(target_net, batch, gamma):
    with torch.no_grad():
        next_q = target_net(batch.next_obs).max(dim=1).values
        return batch.rewards + gamma * next_q          # bootstraps through terminated steps
'''

TARGET_WITH_GRADIENTS = '''
def td_target(target_net, batch, gamma):
    next_q = target_net(batch.next_obs).max(dim=1).values     # no torch.no_grad(): the target carries gradient
    return batch.rewards + gamma * (1.0 - batch.terminated) * next_q
'''

DONE_MASK = '''
def td_target(target_net, batch, gamma):
    with torch.no_grad():
        done = torch.clamp(batch.terminated + batch.truncated, max=1.0)   # truncation treated as terminal
        return batch.rewards + gamma * (1.0 - done) * target_net(batch.next_obs).max(dim=1).values
'''

HUBER_IS_MSE = '''
def huber_loss(errors, delta=1.0):
    return 0.5 * errors ** 2                            # the squared error, not Huber
'''

NO_ZERO_GRAD = '''
def dqn_update(online_net, optimizer, batch, targets, weights=None, max_grad_norm=10.0):
    q = online_net(batch.obs).gather(1, batch.actions.long().unsqueeze(1)).squeeze(1)
    td_errors = targets - q
    losses = huber_loss(td_errors)
    loss = losses.mean() if weights is None else (weights * losses).mean()
    loss.backward()                                     # optimizer.zero_grad() forgotten: gradients accumulate
    torch.nn.utils.clip_grad_norm_(online_net.parameters(), max_grad_norm)
    optimizer.step()
    return float(loss.item()), td_errors.detach()
'''

EPSILON_NOT_CLIPPED = '''
def linear_epsilon(step, start, end, decay_steps):
    return float(start + (end - start) * step / decay_steps)     # keeps falling after decay_steps
'''

REPLAY_SAMPLES_EMPTY_SLOTS = '''
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
        return Batch(torch.as_tensor(self.obs[indices]), torch.as_tensor(self.actions[indices]),
                     torch.as_tensor(self.rewards[indices]), torch.as_tensor(self.next_obs[indices]),
                     torch.as_tensor(self.terminated[indices]), torch.as_tensor(self.truncated[indices]))

    def sample(self, batch_size):
        return self.get(self.rng.integers(0, self.capacity, size=batch_size))   # empty slots too
'''

DOUBLE_WITH_MAX = '''
def double_dqn_target(online_net, target_net, batch, gamma):
    with torch.no_grad():
        next_q = online_net(batch.next_obs).max(dim=1).values     # max instead of argmax-then-evaluate
        return batch.rewards + gamma * (1.0 - batch.terminated) * next_q
'''

DUELING_NO_MEAN = '''
def dueling_aggregate(value, advantages):
    return value + advantages                            # no mean subtraction
'''

SUMTREE_OFF_BY_ONE = '''
class SumTree:
    def __init__(self, capacity):
        self.capacity = int(capacity)
        self.tree = np.zeros(2 * self.capacity)

    def total(self):
        return float(self.tree[1])

    def update(self, indices, priorities):
        for i, p in zip(indices, priorities):
            node = int(i) + self.capacity
            self.tree[node] = p
            node //= 2
            while node >= 1:
                self.tree[node] = self.tree[2 * node] + self.tree[2 * node + 1]
                node //= 2

    def find(self, values):
        out = []
        for v in values:
            node = 1
            while node < self.capacity:
                left = 2 * node
                if v > self.tree[left]:                  # off by one at the boundary: should be >=
                    v -= self.tree[left]
                    node = left + 1
                else:
                    node = left
            out.append(node - self.capacity)
        return np.array(out)
'''

WEIGHTS_NOT_NORMALIZED = '''
def importance_weights(probs, n, beta):
    return (n * np.asarray(probs)) ** (-beta)           # not divided by the largest weight
'''

WRONG = {
    "no_terminal_mask": ({"td_target": NO_TERMINAL_MASK}, {"test_td_target"}),
    "target_with_gradients": ({"td_target": TARGET_WITH_GRADIENTS}, {"test_td_target"}),
    "truncation_as_terminal_and_epsilon": ({"td_target": DONE_MASK, "linear_epsilon": EPSILON_NOT_CLIPPED},
                                           {"test_td_target", "test_linear_epsilon"}),
    # dqn_update calls the student's huber_loss: both lose points
    "huber_is_mse": ({"huber_loss": HUBER_IS_MSE}, {"test_huber_loss", "test_dqn_update"}),
    "no_zero_grad_and_empty_slots": ({"dqn_update": NO_ZERO_GRAD, "ReplayBuffer": REPLAY_SAMPLES_EMPTY_SLOTS},
                                     {"test_dqn_update", "test_ReplayBuffer"}),
    "double_max_and_dueling_no_mean": ({"double_dqn_target": DOUBLE_WITH_MAX, "dueling_aggregate": DUELING_NO_MEAN},
                                       {"test_double_dqn_target", "test_dueling_aggregate"}),
    "sumtree_off_by_one_and_weights": ({"SumTree": SUMTREE_OFF_BY_ONE, "importance_weights": WEIGHTS_NOT_NORMALIZED},
                                       {"test_SumTree", "test_importance_weights"}),
}

# Rebinds every check it can reach, then answers wrongly: must score 0 on every exercise.
_SILENCE = """
import numpy as np, torch, course_lib.checks as _c
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
for _name in ("check_close", "check_shape", "check_type", "check_all", "is_close"):
    setattr(_c, _name, lambda *a, **k: True)
check_close = check_shape = check_type = lambda *a, **k: None
"""
CHEAT = {
    "ReplayBuffer": _SILENCE + """
class ReplayBuffer:
    def __init__(self, capacity, obs_dim, seed=0):
        self.obs_dim = obs_dim
    def add(self, *transition):
        pass
    def __len__(self):
        return 0
    def get(self, indices):
        n = len(indices)
        return Batch(torch.zeros(n, self.obs_dim), torch.zeros(n, dtype=torch.int64), torch.zeros(n),
                     torch.zeros(n, self.obs_dim), torch.zeros(n), torch.zeros(n))
    def sample(self, batch_size):
        return self.get(np.zeros(batch_size, dtype=int))
""",
    "linear_epsilon": _SILENCE + "def linear_epsilon(step, start, end, decay_steps):\n    return 0.0\n",
    "td_target": _SILENCE + "def td_target(target_net, batch, gamma):\n    return batch.rewards.clone()\n",
    "huber_loss": _SILENCE + "def huber_loss(errors, delta=1.0):\n    return errors.abs()\n",
    "dqn_update": _SILENCE + "def dqn_update(online_net, optimizer, batch, targets, weights=None, max_grad_norm=10.0):\n"
                  "    return 0.0, torch.zeros_like(targets)\n",
    "double_dqn_target": _SILENCE + "def double_dqn_target(online_net, target_net, batch, gamma):\n"
                         "    return batch.rewards.clone()\n",
    "dueling_aggregate": _SILENCE + "def dueling_aggregate(value, advantages):\n    return advantages * 0\n",
    "SumTree": _SILENCE + """
class SumTree:
    def __init__(self, capacity):
        self.capacity, self.tree = capacity, np.zeros(2 * capacity)
    def total(self):
        return 0.0
    def update(self, indices, priorities):
        pass
    def find(self, values):
        return np.zeros(len(values), dtype=int)
""",
    "importance_weights": _SILENCE + "def importance_weights(probs, n, beta):\n    return np.ones(len(probs))\n",
}
