"""The mutation-testing harness of ``./course mutants`` without cosmic-ray's long run: the per-mutant
check kills a wrong solution and passes the right one, the table counts equivalent mutants apart, the
results file keeps the other chapters' sections, and an interrupted session resumes only when it was
made for the same solution text."""
from __future__ import annotations

import sqlite3

from autograder import mutants
from autograder.verdict import extract

CHAPTER = "02_qlearning"


def test_the_check_passes_the_solution_and_kills_a_mutant_in_its_exercise(tmp_path):
    text = extract.source(CHAPTER)
    right = tmp_path / "right.py"
    right.write_text(text)
    assert mutants.check(CHAPTER, right) == 0
    line = "    Q[s, a] += alpha * delta\n"
    assert text.count(line) == 2  # q_learning_update and sarsa_update: the first is mutated
    wrong = tmp_path / "wrong.py"
    wrong.write_text(text.replace(line, "    Q[s, a] -= alpha * delta\n", 1))
    assert mutants.check(CHAPTER, wrong) == 1
    broken = tmp_path / "broken.py"
    broken.write_text(text.replace("def q_learning_update(", "def q_learning_update(((", 1))
    assert mutants.check(CHAPTER, broken) == 1  # a mutant that does not load is killed


def _record(line: int, outcome: str, new: str) -> list:
    return [{"mutations": [{"start_pos": [line, 0], "operator_name": "core/Op"}]},
            {"test_outcome": outcome, "diff": f"--- a\n+++ b\n-old\n+{new}\n"}]


def test_the_table_counts_killed_survived_and_listed_equivalent_mutants():
    text = extract.source(CHAPTER)
    lines = text.splitlines()
    eps = next(i for i, ln in enumerate(lines, 1) if ln.strip() == "if rng.random() < epsilon:")
    upd = next(i for i, ln in enumerate(lines, 1) if ln.strip() == "Q[s, a] += alpha * delta")
    records = [_record(upd, "killed", "Q[s, a] -= alpha * delta"),
               _record(upd, "survived", "Q[s, a] += alpha / delta"),
               _record(eps, "survived", "if rng.random() <= epsilon:"),   # listed as equivalent
               _record(eps, "incompetent", "if rng.random() > epsilon:")]
    table = mutants.summarize(CHAPTER, text, records)
    assert table["q_learning_update"]["generated"] == 2 and table["q_learning_update"]["killed"] == 1
    assert [e["mutated"] for e in table["q_learning_update"]["survived"]] == ["Q[s, a] += alpha / delta"]
    eg = table["epsilon_greedy"]
    assert eg["killed"] == 1 and not eg["survived"] and "probability 0" in eg["equivalent"][0]["reason"]
    assert mutants.score_of(table) == 2 / 3  # 2 killed of 4 generated, one of them equivalent


def test_the_results_file_keeps_one_section_per_chapter(tmp_path):
    out = tmp_path / "mutants.md"
    row = {"generated": 4, "killed": 3, "survived": [], "equivalent": [{"reason": "r"}]}
    mutants.record("02_qlearning", {"q_learning_update": row}, out)
    mutants.record("01_intro", {"bellman_backup": dict(row, killed=2, survived=[
        {"source": "a + b", "mutated": "a - b", "line": 7}])}, out)
    mutants.record("02_qlearning", {"q_learning_update": dict(row, killed=2)}, out)
    text = out.read_text()
    assert text.index("## 01_intro") < text.index("## 02_qlearning") and text.count("## 02_qlearning") == 1
    assert "| q_learning_update | 4 | 2 | 0 | 1 | 67% |" in text  # the newer run replaced the older
    assert "| bellman_backup | 4 | 2 | 1 | 1 | 67% |" in text and "- survived: a + b -> a - b" in text


def test_a_session_resumes_only_for_the_same_solution_text(tmp_path):
    text = extract.source(CHAPTER)
    with sqlite3.connect(tmp_path / "session.sqlite") as db:
        db.execute("CREATE TABLE work_results (test_outcome VARCHAR, job_id VARCHAR PRIMARY KEY)")
        db.executemany("INSERT INTO work_results VALUES (?, ?)",
                       [("KILLED", "1"), ("SURVIVED", "2"), ("INCOMPETENT", "3"), (None, "4")])
    assert not mutants._resumable(tmp_path, text)  # no fingerprint: a fresh session is made
    (tmp_path / "source.sha256").write_text(mutants._fingerprint(text + "# changed\n"))
    assert not mutants._resumable(tmp_path, text)
    (tmp_path / "source.sha256").write_text(mutants._fingerprint(text))
    assert mutants._resumable(tmp_path, text)
    with sqlite3.connect(tmp_path / "session.sqlite") as db:  # survivors run again against today's checks
        assert sorted(r[0] for r in db.execute("SELECT job_id FROM work_results")) == ["1", "3"]
