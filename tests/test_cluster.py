"""A class graded in parallel into a real PostgreSQL gradebook, and on a real local Ray cluster,
scores exactly what the same class gets graded one by one into sqlite.

The PostgreSQL server (Debian's ``postgresql``: ``initdb``/``pg_ctl``) and the Ray head (``ray start
--head``) are started by the fixtures on free ports in temporary folders and stopped afterwards.
"""
from __future__ import annotations

import csv
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from helpers import NOTEBOOKS, make_course, with_replacements

pytestmark = pytest.mark.slow
CHAPTER, NOTEBOOK = "01_intro", "01_intro.ipynb"
WRONG = '''
def discounted_return(rewards, gamma):
    return float(sum(rewards))
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_tool(name: str) -> str | None:
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    return shutil.which(name)


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of its own; yields a function that makes a fresh database's URL."""
    pytest.importorskip("psycopg", reason="the grading extra is not installed (requirements-grading.lock)")
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL's server is not installed (Debian: apt-get install postgresql)")
    import psycopg

    data = Path(tempfile.mkdtemp(prefix="course-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(data, "nobody", "nogroup")
        as_user = ["runuser", "-u", "nobody", "--"]
    port = _free_port()
    subprocess.run([*as_user, initdb, "-D", str(data / "db"), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True, text=True)
    subprocess.run([*as_user, pg_ctl, "-D", str(data / "db"), "-l", str(data / "server.log"), "-w", "-t", "60",
                    "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True, text=True)
    made = []

    def database(name: str) -> str:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        made.append(name)
        return f"postgresql://postgres@127.0.0.1:{port}/{name}"

    try:
        yield database
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data / "db"), "-m", "immediate", "-w", "stop"],
                       capture_output=True, text=True)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray cluster (``ray start --head``, 2 CPUs); yields its address."""
    pytest.importorskip("ray", reason="the grading extra is not installed (requirements-grading.lock)")
    from autograder.cluster import local_cluster

    with local_cluster(num_cpus=2) as address:
        yield address


def _grade(tmp: Path, name: str, *args: str, env: dict[str, str] | None = None) -> dict[str, dict]:
    root = make_course(tmp / name, CHAPTER)
    source = NOTEBOOKS / CHAPTER / NOTEBOOK
    for student, answers in (("alice", {}), ("bob", {"discounted_return": WRONG})):
        folder = root / "submitted" / student / CHAPTER
        folder.mkdir(parents=True)
        nbformat.write(with_replacements(source, answers), folder / NOTEBOOK)
    out = tmp / f"{name}.csv"
    run = subprocess.run([sys.executable, "-m", "autograder", "--root", str(root), "grade", "--csv", str(out),
                          *args], capture_output=True, text=True, timeout=1200, env={**os.environ, **(env or {})})
    print(name, run.stdout[-3000:], run.stderr[-2000:])
    assert run.returncode == 0, run.stderr[-3000:]
    return {row["student"]: {k: v for k, v in row.items() if k != "messages"} for row in csv.DictReader(out.open())}


def test_parallel_into_postgresql_and_on_ray_equal_serial_sqlite(tmp_path, postgres, ray_cluster):
    serial = _grade(tmp_path, "serial-sqlite", "--jobs", "1")
    assert float(serial["alice"]["total"]) == 100 and float(serial["bob"]["total"]) == 85, serial
    report = subprocess.run([sys.executable, "-m", "autograder", "--root", str(tmp_path / "serial-sqlite" / "course"),
                             "report"], capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr[-2000:]
    page = (tmp_path / "serial-sqlite" / "course" / "report" / "index.html").read_text()
    assert "01_intro: 2 graded, mean 92.5 / 100" in page
    assert "<td>discounted_return</td><td>15</td><td>7.5</td><td>1 of 2</td>" in page
    assert "no discounting (gamma ignored): 1" in page  # the named mistake, counted
    parallel = _grade(tmp_path, "parallel-postgresql", "--jobs", "2", "--db", postgres("parallel"))
    assert parallel == serial
    on_ray = _grade(tmp_path, "ray-postgresql", "--ray", ray_cluster, "--db", postgres("cluster"))
    assert on_ray == serial
    # the executed notebooks came back from the workers into the course's autograded/ folder
    assert (tmp_path / "ray-postgresql" / "course" / "autograded" / "bob" / CHAPTER / NOTEBOOK).is_file()
