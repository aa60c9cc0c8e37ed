"""The language-ratio instruction-tuning experiment (the report's Figure 2 and Table 16)."""
