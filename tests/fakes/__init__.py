"""Fakes of the chat platforms, each a pytest plugin whose fixtures yield a ``PlatformDriver``,
and tiny random neural models saved as local model folders (``tests.fakes.models``).

``platform_driver`` runs a test once per platform, so a plugin's behaviour is written
and checked once for all of them::

    pytest_plugins = ["tests.fakes"]

    async def test_greets_newcomers(platform_driver):
        [clip] = await platform_driver.join(MEMBER)
        assert clip.kind == "video"
"""

from __future__ import annotations

import pytest

from tests.platforms import PlatformDriver

pytest_plugins = [
    "tests.fakes.discord", "tests.fakes.discord_interactions", "tests.fakes.slack", "tests.fakes.telegram",
    "tests.fakes.models",
]

#: Each platform's driver fixture.
DRIVER_FIXTURES = {"discord": "discord_driver", "slack": "slack_driver", "telegram": "telegram_driver"}


@pytest.fixture(params=sorted(DRIVER_FIXTURES))
def platform_driver(request: pytest.FixtureRequest) -> PlatformDriver:
    return request.getfixturevalue(DRIVER_FIXTURES[request.param])
