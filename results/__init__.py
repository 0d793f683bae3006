"""Scoring and reporting: working-day arithmetic, measures and comparisons."""
