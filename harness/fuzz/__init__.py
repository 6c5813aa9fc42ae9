"""Fuzzing campaigns: generated and mutated cases, oracles, durable findings, replay."""
