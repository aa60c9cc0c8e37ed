"""Analyses of runs: transfer from targeted to untargeted languages, tokenizer efficiency."""
from .transfer import delta_table, language_scores, relative_table, score_x_to_y

__all__ = ["language_scores", "relative_table", "delta_table", "score_x_to_y"]
