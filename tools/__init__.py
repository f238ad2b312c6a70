"""Release tooling run from the repository root: python -m tools.prove_wheels."""
