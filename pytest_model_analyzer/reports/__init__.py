"""Files written at the end of a run: Model Analyzer's CSV tables, an HTML summary, the best configs."""
