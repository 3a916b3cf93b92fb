"""A class graded with hostile submissions in it, with the real nbgrader and the sandbox on.

Each hostile student puts an attack in their first exercise cell (``discounted_return``, 15 points):
read or delete another student's submission or the gradebook, connect to a server on this machine,
leave a process running, fork in a (bounded) loop, allocate memory until stopped, write a huge file.
In the sandbox each attack fails, costs that exercise and is reported; nothing outside is read or
damaged; every other student's score is what it is alone; no process outlives grading.
"""
from __future__ import annotations

import csv
import hashlib
import socket
import subprocess
import sys
import threading
import time

import nbformat
import pytest

from autograder import sandbox
from helpers import NOTEBOOKS, REPO, make_course, with_replacements

PROBLEM = sandbox.bubblewrap_problem()
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(PROBLEM is not None, reason=f"no sandbox here: {PROBLEM}")]
CHAPTER, NOTEBOOK = "01_intro", "01_intro.ipynb"
MARKER = "987654"  # a sleep whose argument no other process on the machine has

# Code run in place of an exercise's answer; {port} is a server of the test on this machine.
ATTACKS = {
    "read_other": "open('../../../submitted/alice/01_intro/01_intro.ipynb').read()",
    "delete_gradebook": "import os; os.remove('../../../gradebook.db')",
    "delete_other": "import shutil; shutil.rmtree('../../../submitted/alice')",
    "network": "import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5).sendall(b'leak')",
    "stay_running": ("import subprocess; subprocess.Popen(['sleep', '" + MARKER + "'], start_new_session=True)\n"
                     "raise RuntimeError('started a process to outlive grading')"),
    "memory": "block = bytearray(4 * 1024 ** 3)",
    "read_solutions": "open('{repo}/notebooks/01_intro/01_intro.ipynb').read()",
    "huge_file": ("with open('big.bin', 'wb') as f:\n"
                  "    for _ in range(200):\n"
                  "        f.write(b'x' * 1024 * 1024)"),
}
FORK_LOOP = "import subprocess\nchildren = [subprocess.Popen(['sleep', '" + MARKER + "']) for _ in range(400)]"
# What each attack's message says in grades.csv.
EXPECTED = {
    "read_other": "FileNotFoundError", "delete_gradebook": "FileNotFoundError",
    "delete_other": "FileNotFoundError", "network": "ConnectionRefusedError",
    "stay_running": "RuntimeError: started a process", "memory": "MemoryError",
    "huge_file": "File too large", "read_solutions": "FileNotFoundError",
}
# Two hostile students, an attack in each of four exercises; their Corridor (20 points) is right.
HOSTILE = {
    "mallory": {"discounted_return": "read_other", "bellman_backup": "delete_gradebook",
                "policy_evaluation": "delete_other", "value_iteration": "network"},
    "oscar": {"discounted_return": "stay_running", "bellman_backup": "huge_file",
              "policy_evaluation": "memory", "value_iteration": "read_solutions"},
}
POINTS = {"discounted_return": 15, "bellman_backup": 20, "policy_evaluation": 20, "value_iteration": 25}

WRONG_VALUE_ITERATION = '''
def value_iteration(P, R, terminal, gamma, tol=1e-10, max_iters=100_000):
    V = np.zeros(P.shape[0])
    for _ in range(max_iters):
        V_new = bellman_backup(P, R, terminal, V, gamma).mean(axis=1)
        if np.max(np.abs(V_new - V)) < tol:
            V = V_new
            break
        V = V_new
    return V, bellman_backup(P, R, terminal, V, gamma).argmax(axis=1)
'''


def _sleepers() -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"sleep {MARKER}"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_hostile_class_in_the_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX_MEMORY_MB", "3072")  # below the 4 GiB the attack asks for
    monkeypatch.setenv("COURSE_SANDBOX_FILE_MB", "50")
    monkeypatch.setenv("COURSE_SANDBOX_PROCESSES", "64")
    root = make_course(tmp_path, CHAPTER)
    source = NOTEBOOKS / CHAPTER / NOTEBOOK

    heard: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    port = server.getsockname()[1]
    stop = threading.Event()

    def listen():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                heard.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()

    subs = root / "submitted"

    def put(student, nb):
        folder = subs / student / CHAPTER
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NOTEBOOK)

    put("alice", with_replacements(source, {}))
    put("bob", with_replacements(source, {"value_iteration": WRONG_VALUE_ITERATION}))
    for student, attacks in HOSTILE.items():
        put(student, with_replacements(source, {ex: ATTACKS[a].format(port=port, repo=REPO) for ex, a in attacks.items()}))
    put("trudy", with_replacements(source, {"value_iteration": FORK_LOOP}))  # a fork loop, late in the notebook
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (subs / "alice").rglob("*.ipynb")}

    out_csv = tmp_path / "grades.csv"
    try:
        run = subprocess.run([sys.executable, "-m", "autograder", "--root", str(root), "grade", "--jobs", "2",
                              "--chapter", CHAPTER, "--timeout", "60", "--csv", str(out_csv)],
                             capture_output=True, text=True, timeout=1500)
    finally:
        stop.set()
        listener.join(timeout=5)
        server.close()
    print(run.stdout[-6000:], run.stderr[-3000:])
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {r["student"]: r for r in csv.DictReader(out_csv.open())}

    assert float(rows["alice"]["total"]) == 100, rows["alice"]
    assert float(rows["bob"]["total"]) == 75 and float(rows["bob"]["test_value_iteration"]) == 0, rows["bob"]
    for student, attacks in HOSTILE.items():
        row = rows[student]
        for exercise, attack in attacks.items():
            assert float(row[f"test_{exercise}"]) == 0, (student, exercise, row)
            assert f"{exercise}: " in row["messages"] and EXPECTED[attack] in row["messages"], (attack, row["messages"])
        assert float(row["total"]) == 100 - sum(POINTS[e] for e in attacks), (student, row)

    # The fork loop stops at the process cap; exercises graded before it keep their points. A kernel
    # left at the cap may be unable to answer afterwards: the rest is then "not graded", and says so.
    trudy = rows["trudy"]
    assert float(trudy["test_value_iteration"]) == 0 and "BlockingIOError" in trudy["messages"], trudy
    assert float(trudy["total"]) in (55, 75), trudy
    assert float(trudy["total"]) == 75 or "could not be read" in trudy["messages"], trudy

    assert heard == [], "a submission reached a server on the grading machine"
    assert (root / "gradebook.db").is_file()
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (subs / "alice").rglob("*.ipynb")}
    assert after == before, "another student's submission was changed"
    time.sleep(1)
    assert _sleepers() == [], "a process started by a submission outlived its grading"


def test_a_fork_loop_stops_at_the_process_limit_and_nothing_outlives_the_kernel(tmp_path, monkeypatch):
    """The sandbox's kernel (as nbgrader starts it, through nbclient) caps the processes a notebook can
    start, and every one of them ends with the kernel."""
    from nbclient import NotebookClient

    monkeypatch.setenv("COURSE_SANDBOX_PROCESSES", "64")
    work = tmp_path / "course" / "autograded" / "eve" / CHAPTER
    work.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(FORK_LOOP), nbformat.v4.new_code_cell("print(len(children))")]
    client = NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                            kernel_manager_class=sandbox.SandboxedKernelManager,
                            resources={"metadata": {"path": str(work)}})
    client.execute()
    errors = [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "BlockingIOError", [c.outputs for c in nb.cells]
    time.sleep(1)
    assert _sleepers() == [], "processes started in the sandbox outlived its kernel"
