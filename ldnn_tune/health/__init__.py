"""Pre-flight checks and the in-training health monitor."""
