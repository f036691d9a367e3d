"""The test kit as a pytest plugin (entry point ``pytest11``: ``mouthpiece``).

``platform_driver`` runs a test once per platform, so a plugin's behaviour is written
and checked once for all of them::

    from core.testing.testbot import MEMBER

    async def test_greets_newcomers(platform_driver):
        [clip] = await platform_driver.join(MEMBER)
        assert clip.kind == "video"
"""

from __future__ import annotations

import pytest

from core.testing.platforms import PlatformDriver

pytest_plugins = [
    "core.testing.testbot", "core.testing.fakes.discord", "core.testing.fakes.discord_interactions",
    "core.testing.fakes.slack", "core.testing.fakes.telegram",
]

#: Each platform's driver fixture.
DRIVER_FIXTURES = {"discord": "discord_driver", "slack": "slack_driver", "telegram": "telegram_driver"}


@pytest.fixture(params=sorted(DRIVER_FIXTURES))
def platform_driver(request: pytest.FixtureRequest) -> PlatformDriver:
    return request.getfixturevalue(DRIVER_FIXTURES[request.param])
