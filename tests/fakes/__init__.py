"""Tiny random neural models saved as local model folders (``tests.fakes.models``) and a fake of
the Hugging Face Hub; the platform fakes are the installed test kit's (``core.testing``)."""

pytest_plugins = ["tests.fakes.models"]
