"""The HTTP edge: a request gigroom cannot read gets a clear 4xx and one log line, never a 500."""

import json
from urllib.parse import urlencode

import pytest

from adapters.web.server import SLACK_EVENTS
from tests.slack import payloads
from tests.slack.payloads import FORM, JSON_TYPE, SlackPayload
from tests.slack.world import SELLER, TEAM, World

pytestmark = pytest.mark.timeout(60)


def _form(payload_text: str) -> SlackPayload:
    return SlackPayload(None, {}, urlencode({"payload": payload_text}).encode(), FORM)


_CLICK = json.dumps(payloads.block_actions(TEAM, SELLER, "gr1:x").data)
UNREADABLE = {
    "binary body": SlackPayload(None, {}, b"\xff\xfe\x00\x81payload=\xc3", FORM),
    "binary JSON body": SlackPayload(None, {}, b"{\xff\xfe}", JSON_TYPE),
    "invalid JSON in payload=": _form("{not json"),
    "truncated JSON in payload=": _form(_CLICK[: len(_CLICK) // 2]),
    "a JSON array": SlackPayload(None, {}, b"[1, 2]", JSON_TYPE),
    "a JSON array in payload=": _form("[1, 2]"),
    "null in payload=": _form("null"),
}


@pytest.mark.parametrize("name", list(UNREADABLE))
async def test_a_signed_request_gigroom_cannot_read_is_answered_400_not_500(world: World, name: str) -> None:
    answer = await world.post(UNREADABLE[name])
    assert answer.status == 400, answer
    assert "invalid request" in answer.json["error"]


async def test_a_timestamp_that_is_not_ascii_digits_is_answered_401_not_500(world: World) -> None:
    assert world.http is not None
    async with world.http.post(world.url + SLACK_EVENTS, data=b"x=1", headers={
            "X-Slack-Request-Timestamp": "\u00b2", "X-Slack-Signature": "v0=00"}) as response:
        assert response.status == 401, await response.text()
