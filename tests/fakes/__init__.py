"""Fakes of the chat platforms, usable as pytest plugins (see each module)."""
