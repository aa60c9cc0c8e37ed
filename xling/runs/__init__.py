"""Runs that cannot go stale or be lost: configs, run folders and their typed records, the content cache, locks."""
