"""Fakes of the chat platforms, each reachable through its real client library on 127.0.0.1.

Every platform module here offers pytest fixtures, among them a driver implementing
``tests.platforms.PlatformDriver``, so a plugin's test can run on each platform.
Load them with ``pytest_plugins = ["tests.fakes.slack"]`` (and the others) in a conftest.
"""
