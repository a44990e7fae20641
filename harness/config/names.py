"""The names a suite or tuner profile may use, one tuple per kind.

They mirror the registries of the other roles (patterns, aggregations, formats, backends), which
are imported lazily and may be absent on a machine, so validation never needs them. The shipped
JSON Schemas repeat these lists; a test keeps both in step.
"""

from __future__ import annotations

# filter, channel and shape are the ADMM structures (zhang-adam-admm-structured-pruning.md)
PATTERNS = ("unstructured", "row_group", "block", "nm", "rows", "columns", "filter", "channel",
            "shape")
AGGREGATIONS = ("rms", "mean", "median", "l1", "l2", "max", "random")
FORMATS = ("dense", "csr", "csc", "coo", "bsr", "blocked_ell", "semi_structured", "row_group")
BACKENDS = ("auto", "torch", "torch_sparse", "scipy", "cupy", "semi_structured", "triton",
            "numba")
DTYPES = ("float32", "float16", "bfloat16")
DTYPE_ALIASES = ("fp32", "fp16", "bf16", "half", "float")  # → harness.core.dtypes.canonical
DEVICES = ("auto", "cpu", "cuda", "cuda:N")
SAMPLERS = ("tpe", "nsga2", "gp", "random", "grid", "qmc")
MODELS = ("fc", "lenet300", "cnn")
DATASETS = ("digits", "mnist", "synthetic")
SCHEDULES = ("oneshot", "iterative", "gradual", "admm", "group_lasso")
OPTIMIZERS = ("sgd", "adam")
MODES = ("cold", "hot")
DIRECTIONS = ("maximize", "minimize")

# objective → default direction ('accuracy' comes from the training stage)
OBJECTIVES = {
    "speedup": "maximize",
    "pruning_rate": "minimize",
    "energy": "minimize",
    "bytes": "minimize",
    "accuracy": "maximize",
}

# keyword arguments each Optuna sampler accepts from a profile's `options:` (callables and
# search spaces are built by the tuner, not written in YAML)
SAMPLER_OPTIONS = {
    "tpe": ("consider_prior", "prior_weight", "consider_magic_clip", "consider_endpoints",
            "n_startup_trials", "n_ei_candidates", "multivariate", "group",
            "constant_liar", "seed", "warn_independent_sampling"),
    "nsga2": ("population_size", "mutation_prob", "crossover_prob",
              "swapping_prob", "seed"),
    "gp": ("n_startup_trials", "deterministic_objective", "seed", "warn_independent_sampling"),
    "random": ("seed",),
    "grid": ("seed",),
    "qmc": ("qmc_type", "scramble", "seed", "warn_asynchronous_seeding",
            "warn_independent_sampling"),
}

# parameters a constraint may name (Point fields, flattened)
PARAMETERS = ("m", "k", "n", "dtype", "device", "pruning_rate", "group_size", "pattern", "block",
              "nm", "aggregation", "format", "backend")
