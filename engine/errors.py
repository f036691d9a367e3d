"""Errors whose message is meant for the person who made the request."""

from __future__ import annotations


class RenderError(Exception):
    """Base class: ``str(error)`` is a clear, specific message for the user."""


class InputError(RenderError):
    """The request itself is bad (file, text, persona): the user can fix it."""


class AudioInputError(InputError):
    pass


class TextInputError(InputError):
    pass


class UnknownPersonaError(InputError):
    pass


class EngineBusyError(RenderError):
    """The render queue is full."""


class RenderCancelled(RenderError):
    pass
