"""Deciding from measurements: constraint gates, regression checks against a baseline, and ranking."""
