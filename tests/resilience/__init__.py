"""Fault tests: real processes killed, real data corrupted, real escapes on a pty."""
