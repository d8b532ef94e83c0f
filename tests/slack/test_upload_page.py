"""Files larger than Slack takes: the Deliver form's signed link to gigroom's upload page, into the seller's draft."""

import re
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import time_machine

from core.lifecycle import OrderState
from tests.slack import payloads
from tests.slack.test_commands import accepted_order
from tests.slack.world import ADMIN, BUYER, SELLER, World

pytestmark = pytest.mark.timeout(60)


async def upload_link(world: World, order_id: str) -> str:
    await world.click(SELLER, world.board(order_id), world.order_channel(order_id), "Deliver")
    notes = " ".join(str(b) for b in world.modal(SELLER)["blocks"] if b["type"] == "context")
    found = re.search(r"<(http[^|>]+/upload/[^|>]+)\|", notes)
    assert found, notes
    return found.group(1).replace(world.settings.public_url.rstrip("/"), world.url)


async def send(url: str, content: bytes, name: str = "big.zip") -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("file", content, filename=name, content_type="application/zip")
    async with aiohttp.ClientSession() as http, http.post(url, data=form) as response:
        return response.status, await response.text()


def stored_files(world: World) -> list[Path]:
    return [p for p in Path(world.settings.files_dir).rglob("*") if p.is_file()]


async def test_a_file_uploaded_on_the_page_joins_the_draft_and_is_delivered(world: World) -> None:
    order_id = await accepted_order(world)
    link = await upload_link(world, order_id)
    async with aiohttp.ClientSession() as http, http.get(link) as page:
        assert page.status == 200 and 'type="file"' in await page.text()
    status, text = await send(link, b"Z" * 300_000)
    assert status == 200, text
    await world.settle()
    draft = world.gig.queries.order(order_id).draft
    assert draft is not None and draft.files[0].name == "big.zip" and draft.files[0].size == 300_000
    assert draft.files[0].sha256 in text
    channel = world.order_channel(order_id)
    assert not any("Draft saved" in m["text"] for m in world.slack.messages(channel)), "a draft is the seller's own"
    assert "Draft saved" in world.last_dm(SELLER)["text"]
    assert not any("Draft saved" in m["text"] for m in world.dm(BUYER))

    await world.click(SELLER, world.board(order_id), channel, "Deliver")
    await world.submit(SELLER, world.modal(SELLER), {"description": "The big file",
                                                     "options": payloads.checkboxes_value(["draft_files"])})
    order = world.gig.queries.order(order_id)
    assert order.state is OrderState.DELIVERED and order.deliveries[-1].files[0].size == 300_000


async def test_a_forged_or_expired_link_is_refused(world: World) -> None:
    order_id = await accepted_order(world)
    link = await upload_link(world, order_id)
    signature = link.rpartition(".")[2]
    forged = link.replace(signature, signature[:-2] + ("AA" if not signature.endswith("AA") else "BB"))
    assert (await send(forged, b"x"))[0] == 403
    with time_machine.travel(world.gig.clock.now() + timedelta(hours=25), tick=True):
        status, text = await send(link, b"x")
    assert status == 403 and "expired" in text
    assert world.gig.queries.order(order_id).draft is None and stored_files(world) == []


async def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(world: World) -> None:
    await world.command(ADMIN, "admin policy max_file_bytes 100000")
    order_id = await accepted_order(world)
    link = await upload_link(world, order_id)
    status, text = await send(link, b"Z" * 250_000)
    assert status == 413 and "100,000 bytes" in text
    assert world.gig.queries.order(order_id).draft is None
    assert stored_files(world) == []


async def test_a_link_with_a_non_ascii_signature_is_refused_403_not_500(world: World) -> None:
    order_id = await accepted_order(world)
    link = await upload_link(world, order_id)
    forged = link.rpartition(".")[0] + ".\u00e9\u00e9"
    assert (await send(forged, b"x"))[0] == 403
    async with aiohttp.ClientSession() as http, http.get(forged) as page:
        assert page.status == 403
