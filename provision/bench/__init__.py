"""Acceptance benchmarks: standalone scripts (scripts/), peaks, verdict, report."""
