"""Analyses over the normalized tables: latency, load levels, pod startup, clock skew."""
