"""Alembic revisions of Mouthpiece's own tables (core and the built-in plugins), in ``versions/``."""
