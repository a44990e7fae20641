"""Backends: a stored operand → a runnable callable on a device."""
