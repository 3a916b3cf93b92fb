"""Wrong answers for chapter 04, policy gradients (see __init__.py for the format)."""

SIGN_ERROR_LOSS = '''
def pg_loss(logp, weights):
    return (logp * weights.detach()).mean()          # sign error: gradient descent now lowers the return
'''

WEIGHTS_CARRY_GRADIENT = '''
def pg_loss(logp, weights):
    return -(logp * weights).mean()                  # no detach: the weights get gradient too
'''

NO_RESET_RTG = '''
def reward_to_go(rewards, dones, gamma):
    rewards = np.asarray(rewards, dtype=np.float64)
    out = np.zeros_like(rewards)
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running       # never reset at episode ends
        out[t] = running
    return out
'''

FORWARD_CUMSUM = '''
def discount_cumsum(x, gamma):
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros_like(x)
    running = 0.0
    for t in range(len(x)):                          # runs over the past, not towards the end
        running = x[t] + gamma * running
        y[t] = running
    return y
'''

UNSTABLE_LOG_SOFTMAX = '''
def categorical_log_prob(logits, actions):
    probs = torch.softmax(logits, dim=-1)
    return torch.log(probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1))   # -inf for large logits
'''

LOG_STD_AS_STD = '''
def gaussian_log_prob(mean, log_std, actions):
    z = (actions - mean) / log_std                   # log_std used as a standard deviation
    return (-0.5 * z ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
'''

NO_SUM_OVER_DIMS = '''
def gaussian_log_prob(mean, log_std, actions):
    z = (actions - mean) / torch.exp(log_std)
    return -0.5 * z ** 2 - log_std - 0.5 * math.log(2 * math.pi)     # (N, d): the sum over d is missing
'''

GAE_THROUGH_TERMINAL = '''
def gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    rewards = np.asarray(rewards, dtype=np.float64)
    advantages = np.zeros_like(rewards)
    running = 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_values[t] - values[t]     # bootstraps through terminal states
        if terminated[t] or truncated[t]:
            running = 0.0
        running = delta + gamma * lam * running
        advantages[t] = running
    return advantages
'''

GAE_TRUNCATED_AS_TERMINAL = '''
def gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    rewards = np.asarray(rewards, dtype=np.float64)
    advantages = np.zeros_like(rewards)
    running = 0.0
    for t in reversed(range(len(rewards))):
        done = terminated[t] or truncated[t]
        delta = rewards[t] + gamma * next_values[t] * (1 - done) - values[t]   # no bootstrap at a time limit
        if done:
            running = 0.0
        running = delta + gamma * lam * running
        advantages[t] = running
    return advantages
'''

GAE_VALUES_SHIFTED = '''
def gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    T = len(rewards)
    advantages = np.zeros(T)
    running = 0.0
    for t in reversed(range(T)):
        v_next = values[t + 1] if t + 1 < T else next_values[t]     # values[t+1] is another episode at a boundary
        delta = rewards[t] + gamma * v_next * (1 - terminated[t]) - values[t]
        if terminated[t] or truncated[t]:
            running = 0.0
        running = delta + gamma * lam * running
        advantages[t] = running
    return advantages
'''

WRONG = {
    "sign_error_in_loss": ({"pg_loss": SIGN_ERROR_LOSS}, {"test_pg_loss"}),
    "no_reset_of_reward_to_go": ({"reward_to_go": NO_RESET_RTG}, {"test_reward_to_go"}),
    "gae_through_terminal_and_log_std_as_std": (
        {"gae": GAE_THROUGH_TERMINAL, "gaussian_log_prob": LOG_STD_AS_STD},
        {"test_gae", "test_gaussian_log_prob"}),
    "unstable_log_softmax_and_forward_cumsum": (
        {"categorical_log_prob": UNSTABLE_LOG_SOFTMAX, "discount_cumsum": FORWARD_CUMSUM},
        {"test_categorical_log_prob", "test_discount_cumsum"}),
    "weights_carry_gradient_and_truncated_as_terminal": (
        {"pg_loss": WEIGHTS_CARRY_GRADIENT, "gae": GAE_TRUNCATED_AS_TERMINAL},
        {"test_pg_loss", "test_gae"}),
    "no_sum_over_dims_and_values_shifted": (
        {"gaussian_log_prob": NO_SUM_OVER_DIMS, "gae": GAE_VALUES_SHIFTED},
        {"test_gaussian_log_prob", "test_gae"}),
}

# Rebinds every check it can reach, then answers wrongly: must score 0 on every exercise.
_SILENCE = """
import numpy as np, torch, course_lib.checks as _c
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
torch.allclose = lambda *a, **k: True
for _name in ("check_close", "check_shape", "check_type", "check_all", "is_close"):
    setattr(_c, _name, lambda *a, **k: True)
check_close = check_shape = check_type = lambda *a, **k: None
"""
CHEAT = {
    "categorical_log_prob": _SILENCE + "def categorical_log_prob(logits, actions):\n"
                            "    return logits[:, 0] * 0.0\n",
    "pg_loss": _SILENCE + "def pg_loss(logp, weights):\n    return (logp * 0.0).sum()\n",
    "discount_cumsum": _SILENCE + "def discount_cumsum(x, gamma):\n    return np.asarray(x, dtype=float)\n",
    "reward_to_go": _SILENCE + "def reward_to_go(rewards, dones, gamma):\n"
                    "    return np.asarray(rewards, dtype=float)\n",
    "gaussian_log_prob": _SILENCE + "def gaussian_log_prob(mean, log_std, actions):\n"
                         "    return (mean * 0.0).sum(-1)\n",
    "gae": _SILENCE + "def gae(rewards, values, next_values, terminated, truncated, gamma, lam):\n"
           "    return np.zeros(len(rewards))\n",
}
