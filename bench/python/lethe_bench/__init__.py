"""Lethe's Python benchmarks (unlearning methods, answer ranks, torch side of the audit parity); they import lethe_worker, which never imports them."""
