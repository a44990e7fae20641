"""Nightly regression runs: fixed points measured, compared with history, trends detected."""
