"""Files shared in Slack for a delivery, copied into gigroom's file store as a stream."""

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from core.errors import Refused
from core.order_parts import FileRef
from core.ports import FileStore, FileTooLarge

CHUNK = 256 * 1024


class SlackFiles:
    def __init__(self, store: FileStore) -> None:
        self.store = store

    async def shared_in(self, client: AsyncWebClient, channel_id: str, user_id: str) -> tuple[tuple[str, str], ...]:
        """(file id, label) of the files a person shared in a channel, newest first, at most 10."""
        found = await client.files_list(channel=channel_id, user=user_id, count=10)
        return tuple((f["id"], f"{f.get('name') or f['id']} ({int(f.get('size') or 0):,} bytes)")
                     for f in found.get("files") or [])

    async def copy(self, client: AsyncWebClient, shared: dict[str, Any], limit: int) -> FileRef:
        """Stream a shared file from Slack (with the bot's token) into the store: name, size and SHA-256 kept."""
        info = shared
        if not shared.get("url_private_download"):
            found = await client.files_info(file=shared["id"])
            info = found["file"]
        if int(info.get("size") or 0) > limit:
            raise FileTooLarge(limit)
        url = info.get("url_private_download") or info.get("url_private")
        if not url:
            raise Refused(f"Slack gave no way to download {info.get('name', 'the file')}.")
        async with aiohttp.ClientSession() as session, session.get(
                url, headers={"Authorization": f"Bearer {client.token}"}) as response:
            if response.status != 200:
                raise Refused(f"Slack refused to hand over {info.get('name', 'the file')} (HTTP {response.status}).")
            return await self.store.put(info.get("name") or info["id"], _chunks(response), limit)


async def _chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    async for chunk in response.content.iter_chunked(CHUNK):
        yield chunk

