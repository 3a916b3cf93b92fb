"""Instructor side of the Deep RL Workbook: nbgrader tools, reference implementations, benchmark.

Not installed with ``course_lib`` and never part of the student release. Run ``python -m autograder``.
"""
