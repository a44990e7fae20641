"""Whole models: built-ins and user factories (`builtin`), their layers as GEMM problems
(`extract`), each layer's share of the model's time (`share`), export with real sparse
execution, verified and timed end to end (`export`), and the model suite that `harness tune`
searches per layer (`suite`; the search is harness.tune.model). Nothing here imports torch at
import time.
"""
