"""Training stage: models, data, dense pre-training and pruning schedules (accuracy side of the front).

Heavy imports (torch, sklearn, optuna) stay inside the submodules, so `import harness.train` is cheap.
"""
