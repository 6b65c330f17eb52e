"""Waymark's benchmark: `python -m bench --scale small|full` (or `make bench`).

Modules, in the order a run uses them:
    environment   its own PostgreSQL database and production-like settings (DEBUG off)
    scales        the sizes of `small` (CI smoke check) and `full` (the contract)
    curriculum    the generated YAML tracks
    learners      learners, histories and their rows, written with COPY
    consistency   proof that the generated rows are what the services would have written
    inprocess     YAML, loader, mark-done and track-page figures through Django's request cycle
    cohort_dashboard, nudge_run   hooks for features not on main yet (null until they are)
    http_load     gunicorn + wrk, and the processes' memory
    report        the targets of issue 15, the table and the JSON
"""
