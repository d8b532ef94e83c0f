"""Fixtures for the Slack adapter's tests: the stand-in with one workspace, and gigroom running on it."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.slack.standin import SlackStandIn
from tests.slack.world import SOCKET_MODE, World, add_team, settings_for


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as standin:
        add_team(standin)
        yield standin
        assert standin.errors == [], "the stand-in failed on its own (answered 500 internal_error)"


@pytest.fixture(params=["http", "socket_mode"])
async def both(request: pytest.FixtureRequest, slack: SlackStandIn, tmp_path: Path) -> AsyncIterator[World]:
    """gigroom on Slack over HTTP, then over Socket Mode: a test that takes this runs on both."""
    changes = SOCKET_MODE if request.param == "socket_mode" else {}
    running = await World(slack, settings_for(slack, tmp_path, **changes)).start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def world(slack: SlackStandIn, tmp_path: Path) -> AsyncIterator[World]:
    running = await World(slack, settings_for(slack, tmp_path)).start()
    try:
        yield running
    finally:
        await running.stop()
