"""One notation for the whole course: the card in chapter 1 (notebook 01_intro, end of section 1) gives each
symbol one meaning, and the notebooks' markdown keeps to it. Each test guards one rule of the card that a
chapter broke before the card existed (a reward index that moved, delta for two things, alpha, beta and
epsilon for three, Phi and Psi for one thing), cheaply, on the markdown text."""
from __future__ import annotations

import re

import nbformat
import pytest

from helpers import chapter_notebooks

NOTEBOOKS = chapter_notebooks()
# Chapters 1-5: every symbol of the card applies. Chapters 6-7 are checked for the symbols the card gives them.
EARLY = [p for p in NOTEBOOKS if p.name[:2] in {"01", "02", "03", "04", "05"}]
POINTER = "Notation: see chapter 1's card"


def is_card(text: str) -> bool:
    return "notation card" in text.lower() and "| symbol |" in text


def markdown(path, card: bool = False) -> list[str]:
    """The source of every markdown cell of a notebook; the notation card itself only with `card=True` (it
    names every letter, including those that belong to later chapters)."""
    return [c.source for c in nbformat.read(path, as_version=4).cells
            if c.cell_type == "markdown" and (card or not is_card(c.source))]


def hits(path, pattern: str, allow: str | None = None) -> list[str]:
    """Each match of `pattern` in the notebook's markdown, with some context; text matching `allow` is
    removed first (a sanctioned use, such as the card's own line on Sutton & Barto)."""
    found = []
    for text in markdown(path):
        if allow:
            text = re.sub(allow, " ", text)
        found += [text[max(0, m.start() - 40):m.end() + 40].replace("\n", " ") for m in re.finditer(pattern, text)]
    return found


def test_the_card_is_in_chapter_one():
    intro = [p for p in NOTEBOOKS if p.name.startswith("01")]
    assert intro, "no chapter 1 notebook"
    cards = [t for t in markdown(intro[0], card=True) if is_card(t)]
    assert len(cards) == 1, "chapter 1 must hold exactly one notation card (a markdown table: symbol, meaning, code)"
    card = cards[0]
    for symbol in (r"\eta", r"\varepsilon", r"\delta_t", r"\kappa", r"\alpha_{\text{PER}}", r"\beta_{\text{PER}}",
                   r"\Psi_t", r"c_H", r"c_V", r"\rho_t", r"\epsilon_{\text{clip}}", r"\tau", r"\lambda", r"\bar\theta"):
        assert symbol in card, f"the notation card has no row for {symbol}"
    assert "`rewards[t]`" in card, "the card must state the reward index the code uses (r_t is rewards[t])"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.name.startswith("01")], ids=lambda p: p.name)
def test_later_notebooks_point_to_the_card(path):
    assert any(POINTER in t for t in markdown(path)), f"{path.name}: no pointer '{POINTER}' to the notation card"


@pytest.mark.parametrize("path", EARLY, ids=lambda p: p.name)
def test_rewards_follow_their_action(path):
    """r_t follows a_t (`rewards[t]`): a return or a one-step target from step t starts with r_t, and Sutton &
    Barto's R_{t+1} appears only where the text says that they write it so."""
    starts = hits(path, r"=\s*r_\{t\+1\}|\[r_1,|r_\{t\+1\}\s*\+\s*\\gamma\s*V\(s_\{t\+1\}\)")
    assert not starts, f"{path.name}: a return or target that starts at r_(t+1) (the card: r_t follows a_t): {starts}"
    # R_{t+1} as a reward (Sutton & Barto's); gamma R_{t+1} is a return's recursion (5a's R_t are returns)
    sb = hits(path, r"(?<!\\gamma )(?<!\\gamma\\, )R_\{t\+1\}", allow=r"Sutton (?:&|and) Barto write[^.]{0,60}?R_\{t\+1\}")
    assert not sb, f"{path.name}: R_(t+1) outside the sentence that names Sutton & Barto's convention: {sb}"


@pytest.mark.parametrize("path", EARLY, ids=lambda p: p.name)
def test_learning_rates_are_eta(path):
    """alpha is SAC's temperature (chapter 7) and, subscripted, prioritised replay's exponent; a learning rate is
    eta. The one exception names Sutton & Barto's alpha."""
    found = hits(path, r"\\alpha(?!_\{\\text\{PER\}\})", allow=r"Sutton (?:&|and) Barto write[^.]{0,30}?\\alpha")
    assert not found, f"{path.name}: \\alpha in chapters 1-5 (learning rates are \\eta): {found}"


@pytest.mark.parametrize("path", EARLY, ids=lambda p: p.name)
def test_beta_is_only_the_per_exponent_before_chapter_six(path):
    """The entropy coefficient is c_H; beta is PPO-penalty's KL coefficient (chapter 6) and beta_PER (3b)."""
    found = hits(path, r"\\beta(?!_\{\\text\{PER\}\})")
    assert not found, f"{path.name}: \\beta that is not \\beta_{{\\text{{PER}}}} (entropy coefficient: c_H): {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_letter_for_the_policy_gradient_weight(path):
    found = hits(path, r"\\Phi")
    assert not found, f"{path.name}: \\Phi (the policy-gradient weight is \\Psi_t): {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_delta_is_not_the_huber_threshold(path):
    """delta_t is the TD error; the Huber threshold is kappa (PyTorch's `delta`): no \\delta near 'Huber'
    unless subscripted (a TD error), and no L_\\delta."""
    found = []
    for text in markdown(path):
        for m in re.finditer(r"huber", text, flags=re.IGNORECASE):
            window = text[max(0, m.start() - 200):m.end() + 400]
            found += re.findall(r"\\delta(?![_a-zA-Z])", window)
        found += re.findall(r"L_\\delta|L_\{\\delta\}", text)
    assert not found, f"{path.name}: \\delta used for the Huber threshold (the card: \\kappa): {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_epsilon_is_exploration_unless_subscripted(path):
    """\\varepsilon is epsilon-greedy's rate; PPO's clip range is \\epsilon_{\\text{clip}} and prioritised replay's
    priority floor \\epsilon_{\\text{PER}}: a bare \\epsilon is neither."""
    found = hits(path, r"\\epsilon(?!_\{\\text\{(?:clip|PER)\}\})")
    assert not found, f"{path.name}: a bare \\epsilon (the card: \\epsilon_{{\\text{{clip}}}} or _{{\\text{{PER}}}}): {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_ratio_is_rho(path):
    """r_t is a reward everywhere; the probability ratio pi_theta / pi_theta_old is rho_t."""
    found = hits(path, r"r_t\(\\theta\)|r_t\s*=\s*\\(?:frac\{)?\\?pi|\\operatorname\{clip\}\(r|\$r\$ \|")
    assert not found, f"{path.name}: the probability ratio written r (the card: \\rho_t): {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_target_network_notation(path):
    r"""Target networks are \bar\theta (\bar\phi), as chapter 3 introduces them: not Q^- or \theta^-."""
    found = hits(path, r"Q\^-|Q\^\{-\}|\\theta\^-|\\theta\^\{-\}")
    assert not found, f"{path.name}: a target network written with ^- (the card: \\bar\\theta): {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_dollar_signs_balance(path):
    """Every markdown cell's inline and display math is closed (an odd number of $ breaks MathJax's rendering of
    the rest of the cell). Dollars inside code spans and fenced code do not count."""
    for i, text in enumerate(markdown(path)):
        text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
        text = re.sub(r"`[^`\n]*`", "", text)
        text = text.replace(r"\$", "")
        assert text.count("$") % 2 == 0, f"{path.name}, markdown cell {i}: an odd number of $ signs"
