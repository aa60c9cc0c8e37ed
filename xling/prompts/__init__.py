"""Prompts as data: hashed YAML templates (built-in ones in builtin/) for translation and NLI / multiple choice."""
