"""portable() and typed configs: a function whose default is a notebook dataclass (a typed config) runs in
spawned workers (the class is rebuilt there from its fields); a dataclass with a method of its own is still refused."""
import textwrap
import pytest
from course_lib.portable import portable
from course_lib.workers import run_workers

SOURCE = textwrap.dedent('''
    from dataclasses import dataclass
    from course_lib.hyperparams import with_changes

    @dataclass(frozen=True)
    class ToyConfig:
        lr: float = 0.5
        sizes: tuple = (2, 3)
        note: str | None = None

    def toy_worker(ctx, config=ToyConfig(), **changes):
        config = with_changes(config, **changes)
        ctx.add_steps(1)
        ctx.report(lr=config.lr, n=sum(config.sizes))
''')


def test_a_notebook_config_dataclass_travels_to_spawned_workers():
    ns = {"__name__": "__main__"}
    exec(compile(SOURCE, "<notebook cell>", "exec"), ns)
    ns["toy_worker"].__course_source__ = "def toy_worker" + SOURCE.split("def toy_worker")[1]   # as a cell's source
    fn = portable(ns["toy_worker"])
    run = run_workers(fn, 2, kwargs={"lr": 0.25}, start_method="spawn", max_steps=2, max_seconds=120)
    assert sorted(m["lr"] for _, _, m in run.reports) == [0.25, 0.25] and all(m["n"] == 5 for _, _, m in run.reports)


def test_a_dataclass_with_a_method_is_still_refused():
    ns = {"__name__": "__main__"}
    exec(compile(SOURCE.replace("note: str | None = None", "note: str | None = None\n    def double(self):\n        return 2 * self.lr"), "<cell>", "exec"), ns)
    ns["toy_worker"].__course_source__ = "def toy_worker" + SOURCE.split("def toy_worker")[1]
    with pytest.raises(ValueError, match="uses the class 'ToyConfig'"):
        portable(ns["toy_worker"])
