"""The project's tests, a regular package so that `tests.*` imports find these files first.

Some wheels install a top-level package of their own called `tests` into site-packages (textstat
0.7.13 does); a namespace package (a folder without this file) would lose to it and conftest.py's
`from tests.stack import ...` would fail.
"""
