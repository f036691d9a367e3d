"""Mouthpiece's render engine: speech in, talking-avatar video out.

Import what you need from the submodules (``engine.engine``, ``engine.encode``,
``engine.motion``, …); this package imports nothing heavy, so ``import engine``
stays cheap for the CLI.
"""
