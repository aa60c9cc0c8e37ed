"""Results out: tables, reports, figures, the report's printed numbers, transfer and tokenizer analyses."""
