"""Automatic configuration search (Model Analyzer's brute and quick modes). Pure logic: no pytest."""
