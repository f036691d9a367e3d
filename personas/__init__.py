"""Personas: their format, registry, memory and the built-in sprite sets."""
