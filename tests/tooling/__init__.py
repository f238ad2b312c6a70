"""The tests of the repository's tooling (see conftest.py)."""
