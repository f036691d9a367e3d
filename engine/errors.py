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


class FaceInputError(InputError):
    """A photo or template video that cannot be animated: not a picture, too big, no usable face."""


class EngineBusyError(RenderError):
    """The render queue is full."""


class RenderCancelled(RenderError):
    pass


class ModelError(RenderError):
    """A neural model in ``[models]`` is missing, not of the expected kind, or failed to load."""


class ModelNotConfiguredError(ModelError):
    """A feature needs a model the operator has not configured; the message says which key to set."""


class ModelBusyError(ModelError):
    """The model was busy with other requests for longer than the caller was willing to wait."""


class ClusterError(RenderError):
    """The render cluster (the "ray" executor) could not be reached or lost the render."""
