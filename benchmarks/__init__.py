"""maintbot's benchmarks: scripts run from a checkout (see benchmarks/README.md)."""
