"""The version of xling (a leaf module: setup.cfg reads it without importing the package)."""
__version__ = "0.1.0"
