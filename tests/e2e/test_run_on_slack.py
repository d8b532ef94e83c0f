"""`gigroom run` as a new user starts it: a real process on Slack (HTTP mode), reached over loopback."""

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.slack import payloads
from tests.slack.standin import SlackStandIn
from tests.slack.world import SECRET, SELLER, add_team

pytestmark = pytest.mark.timeout(60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_gigroom_run_serves_slack_and_stops_in_order_on_sigterm(tmp_path: Path) -> None:
    async with SlackStandIn() as slack:
        add_team(slack)
        port = _free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-acme", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": slack.base_url, "GIGROOM_WEB_PORT": str(port), "GIGROOM_LOG_LEVEL": "ERROR"}
        for name in ("DATABASE_URL", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "DISCORD_TOKEN"):
            env.pop(name, None)
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env,
                                                       stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), 30)
            assert b"listens for Slack" in line, line
            request = payloads.slash_command("T1", SELLER, text="create", standin=slack)
            async with aiohttp.ClientSession() as http, http.post(
                    f"http://127.0.0.1:{port}/slack/events", data=request.body, headers=request.headers(SECRET)) as answer:
                assert answer.status == 200
            for _ in range(100):
                if slack.calls_to("views.open"):
                    break
                await asyncio.sleep(0.05)
            assert slack.last("views.open").ok
            assert (tmp_path / "data" / "gigroom.db").exists()
        finally:
            process.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(process.stdout.read(), 30)
            code = await process.wait()
        assert code == 0, rest
        assert b"gigroom stops" in rest
