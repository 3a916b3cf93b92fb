"""Realistic wrong answers per chapter, for the end-to-end grading test (tests/test_grading.py).

Each module ``case_<chapter>.py`` defines ``WRONG = {submission name: (replacements, losers)}``:
``replacements`` maps an exercise's grade_id to the code a student might write instead of the
solution; ``losers`` is the set of test-cell ids (``test_<grade_id>``) that must lose points. Every
other exercise of that submission keeps the solution and must keep full marks.
``CHEAT`` maps grade_ids to code that rebinds checks and answers wrongly; it must score 0 overall.
"""
