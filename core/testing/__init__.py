"""Mouthpiece's test kit: a real agent and fakes of Discord, Telegram and Slack for a plugin's tests.

Installed with ``pip install mouthpiece[testing]``, it is a pytest plugin (the ``pytest11`` entry
point ``mouthpiece``, module ``core.testing.plugin``), so its fixtures need no conftest.py:
``testbot`` (``core.testing.testbot``), ``platform_driver`` (once per platform) and each
platform's driver. The agent loads every plugin installed through ``mouthpiece.plugins``.
"""
