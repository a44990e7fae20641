"""Results store: one SQLAlchemy URL holds the Optuna studies and harness's own tables."""
