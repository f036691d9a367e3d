"""Remembering which Slack events were handled, so that a redelivered one is handled once.

Slack delivers an event again when it thinks the first delivery wasn't acknowledged in
time (HTTP: the ``X-Slack-Retry-Num`` header; Socket Mode: the envelope's ``retry_attempt``);
every delivery of one event carries the same ``event_id``.
"""

from __future__ import annotations

from collections import OrderedDict


class RecentKeys:
    """The last ``size`` keys seen; the oldest is forgotten first, so memory stays bounded."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def first_sight(self, key: str) -> bool:
        """True the first time ``key`` is seen (among the last ``size``), then False."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return True
