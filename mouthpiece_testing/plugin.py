"""The test kit as a pytest plugin (entry point ``pytest11``: ``mouthpiece``).

``platform_driver`` runs a test once per platform, so a plugin's behaviour is written
and checked once for all of them::

    from mouthpiece_testing.testbot import MEMBER

    async def test_greets_newcomers(platform_driver):
        [clip] = await platform_driver.join(MEMBER)
        assert clip.kind == "video"
"""

from __future__ import annotations

import pytest

from mouthpiece_testing.platforms import PlatformDriver

pytest_plugins = [
    "mouthpiece_testing.testbot", "mouthpiece_testing.fakes.discord", "mouthpiece_testing.fakes.discord_interactions",
    "mouthpiece_testing.fakes.slack", "mouthpiece_testing.fakes.telegram",
]

#: Each platform's driver fixture.
DRIVER_FIXTURES = {"discord": "discord_driver", "slack": "slack_driver", "telegram": "telegram_driver"}


@pytest.fixture(params=sorted(DRIVER_FIXTURES))
def platform_driver(request: pytest.FixtureRequest) -> PlatformDriver:
    return request.getfixturevalue(DRIVER_FIXTURES[request.param])
