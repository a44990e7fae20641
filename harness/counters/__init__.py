"""Counters: observers read while timing (NVML on CUDA; frequency, RSS, RAPL on CPU)."""
