"""Built-in feature plugins; each module implements hooks from ``core.hookspecs``."""
