"""Wrong answers for chapter 05 (see __init__.py for the format).

Notebook 5b loads n_step_returns, categorical_entropy and actor_critic_loss from the submitted 5a, and
its q_targets solution reuses n_step_returns for the n-step method: a wrong n_step_returns therefore
also costs test_q_targets (n-step Q-learning is built on it).
"""

BOOTSTRAP_THROUGH_TERMINAL = '''
def n_step_returns(rewards, terminated, truncated, next_values, gamma):
    returns = torch.zeros_like(rewards)
    running = next_values[-1].detach()
    for t in reversed(range(rewards.shape[0])):
        if t < rewards.shape[0] - 1:
            running = torch.where(truncated[t], next_values[t].detach(), running)
        running = rewards[t] + gamma * running          # no terminal mask: bootstraps through terminal states
        returns[t] = running
    return returns
'''

TRUNCATION_AS_TERMINAL = '''
def n_step_returns(rewards, terminated, truncated, next_values, gamma):
    done = terminated | truncated                        # a time limit treated as the end of the task
    returns = torch.zeros_like(rewards)
    running = next_values[-1].detach()
    for t in reversed(range(rewards.shape[0])):
        running = rewards[t] + gamma * (~done[t]).float() * running
        returns[t] = running
    return returns
'''

NAIVE_ENTROPY = '''
def categorical_entropy(logits):
    probs = torch.softmax(logits, dim=-1)
    return -(probs * torch.log(probs)).sum(dim=-1)      # log(0) = -inf -> nan for confident policies
'''

ENTROPY_WRONG_SIGN = '''
def actor_critic_loss(logits, actions, values, returns, value_coef=0.5, entropy_coef=0.01):
    returns = returns.detach()
    advantages = returns - values.detach()
    log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    policy_loss = -(log_probs * advantages).mean()
    value_loss = ((returns - values) ** 2).mean()
    entropy = categorical_entropy(logits).mean()
    loss = policy_loss + value_coef * value_loss + entropy_coef * entropy   # the bonus became a penalty
    return loss, policy_loss, value_loss, entropy
'''

ADVANTAGE_WITH_GRADIENT = '''
def actor_critic_loss(logits, actions, values, returns, value_coef=0.5, entropy_coef=0.01):
    returns = returns.detach()
    advantages = returns - values                        # not detached: the actor loss trains the critic
    log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    policy_loss = -(log_probs * advantages).mean()
    value_loss = ((returns - values) ** 2).mean()
    entropy = categorical_entropy(logits).mean()
    loss = policy_loss + value_coef * value_loss - entropy_coef * entropy
    return loss, policy_loss, value_loss, entropy
'''

STALE_SHARED_GRADIENT = '''
def worker_update(loss, local_model, shared_model, shared_optimizer, max_grad_norm):
    local_model.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(local_model.parameters(), max_grad_norm)
    for local_p, shared_p in zip(local_model.parameters(), shared_model.parameters()):
        if shared_p.grad is not None:                    # the classic trick: alias once, never again
            break
        shared_p._grad = local_p.grad
    shared_optimizer.step()
    local_model.load_state_dict(shared_model.state_dict())
    return float(norm)
'''

NO_ZERO_GRAD = '''
def worker_update(loss, local_model, shared_model, shared_optimizer, max_grad_norm):
    loss.backward()                                      # local gradients accumulate over updates
    norm = torch.nn.utils.clip_grad_norm_(local_model.parameters(), max_grad_norm)
    for local_p, shared_p in zip(local_model.parameters(), shared_model.parameters()):
        if local_p.grad is not None:
            shared_p.grad = local_p.grad.clone()
    shared_optimizer.step()
    local_model.load_state_dict(shared_model.state_dict())
    return float(norm)
'''

SARSA_WITH_MAX = '''
def q_targets(rewards, terminated, truncated, next_q, next_actions, gamma, method):
    next_q = next_q.detach()
    if method == "n-step":
        return n_step_returns(rewards, terminated, truncated, next_q.max(dim=-1).values, gamma)
    bootstrap = next_q.max(dim=-1).values                # SARSA must use the next action, not the max
    return rewards + gamma * (~terminated).float() * bootstrap
'''

WRONG = {
    "bootstrap_through_terminal_and_stale_gradient": (
        {"n_step_returns": BOOTSTRAP_THROUGH_TERMINAL, "worker_update": STALE_SHARED_GRADIENT},
        {"test_n_step_returns", "test_q_targets", "test_worker_update"}),
    "entropy_wrong_sign_and_sarsa_with_max": (
        {"actor_critic_loss": ENTROPY_WRONG_SIGN, "q_targets": SARSA_WITH_MAX},
        {"test_actor_critic_loss", "test_q_targets"}),
    "advantage_with_gradient_and_no_zero_grad": (
        {"actor_critic_loss": ADVANTAGE_WITH_GRADIENT, "worker_update": NO_ZERO_GRAD},
        {"test_actor_critic_loss", "test_worker_update"}),
    "naive_entropy_and_truncation_as_terminal": (
        {"categorical_entropy": NAIVE_ENTROPY, "n_step_returns": TRUNCATION_AS_TERMINAL},
        {"test_categorical_entropy", "test_n_step_returns", "test_q_targets"}),
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
    "n_step_returns": _SILENCE + "def n_step_returns(rewards, terminated, truncated, next_values, gamma):\n"
                      "    return rewards.clone()\n",
    "categorical_entropy": _SILENCE + "def categorical_entropy(logits):\n    return torch.zeros(logits.shape[0])\n",
    "actor_critic_loss": _SILENCE + "def actor_critic_loss(logits, actions, values, returns, value_coef=0.5, entropy_coef=0.01):\n"
                         "    z = (logits.sum() + values.sum()) * 0.0\n    return z, z, z, z\n",
    "worker_update": _SILENCE + "def worker_update(loss, local_model, shared_model, shared_optimizer, max_grad_norm):\n"
                     "    return 0.0\n",
    "q_targets": _SILENCE + "def q_targets(rewards, terminated, truncated, next_q, next_actions, gamma, method):\n"
                 "    return rewards.clone()\n",
}
