"""Measurement core: problems, verification, timing (adaptive, interleaved), counters, roofline.

The single entry point for tune/bench/regress is `harness.measure.runner.Bench`.
"""
