"""Every chapter notebook runs top to bottom in fast mode, with no error and nothing on stderr in
graded cells (nbgrader scores a test cell that writes to stderr as zero)."""
from __future__ import annotations

import pytest

from helpers import chapter_notebooks, errors, execute, stderr_outputs

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.name)
def test_notebook_runs_in_fast_mode(path):
    nb, seconds = execute(path, env={"COURSE_FAST": "1"})
    print(f"{path.name}: {seconds:.1f} s in fast mode")
    assert not errors(nb), f"{path.name} raised:\n" + "\n".join(errors(nb))
    noisy = stderr_outputs(nb, graded_only=True)
    assert not noisy, f"{path.name}: graded cells wrote to stderr (nbgrader would score 0):\n" + "\n".join(noisy)
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 1, f"{path.name} drew no plot"
