"""Fakes of the chat platforms that the real client libraries talk to on 127.0.0.1, each a
pytest plugin whose fixture yields a ``core.testing.platforms.PlatformDriver``."""
