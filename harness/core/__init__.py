"""Shared vocabulary of every role: errors, registries, the Point, and the role interfaces."""
