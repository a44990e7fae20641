"""Whole models: built-ins and user factories (`builtin`), their layers as GEMM problems
(`extract`), each layer's share of the model's time (`share`), and export with real sparse
execution, verified and timed end to end (`export`). Nothing here imports torch at import time.
"""
