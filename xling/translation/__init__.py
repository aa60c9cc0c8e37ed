"""LLMs and MT models as translators: the Translator and the cleaning of its outputs."""
