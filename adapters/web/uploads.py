"""gigroom's upload page: files larger than a chat platform takes (Slack 1 GB, Discord far less), up to the policy's limit.

A seller gets a signed link to the page from the Deliver form. The link names the order and the seller
and expires; the file is streamed into the file store (SHA-256 on the way, refused past the limit while
it streams, nothing kept of a refused or broken upload) and added to the order's draft delivery, which
the seller then delivers from the chat.
"""

import asyncio
import base64
import hashlib
import hmac
import html
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Protocol

from aiohttp import BodyPartReader, web

from adapters.db.queries import Queries
from core import commands as c
from core.actor import Actor
from core.engine import Outcome
from core.errors import Refused
from core.ports import FileStore, FileTooLarge

UPLOAD_PATH = "/upload/{token}"
LIFETIME = timedelta(hours=24)
CHUNK = 256 * 1024


class BadLink(Refused):
    """A link gigroom did not sign, or one that has expired."""


class UploadLinks:
    """Signed, expiring links to the upload page for one order and its seller."""

    def __init__(self, key: bytes, public_url: str, now: Callable[[], datetime], lifetime: timedelta = LIFETIME) -> None:
        self.key, self.public_url, self.now, self.lifetime = key, public_url.rstrip("/"), now, lifetime

    def link(self, actor: Actor, order_id: str) -> str:
        claims = {"c": actor.community_id, "u": actor.user_id, "o": order_id,
                  "e": int((self.now() + self.lifetime).timestamp())}
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{self.public_url}/upload/{body}.{self._sign(body)}"

    def read(self, token: str) -> tuple[Actor, str]:
        """The seller and the order a token names; Refused when it is forged or expired."""
        body, _, signature = token.partition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):  # bytes: a non-ASCII str raises TypeError
            raise BadLink("This upload link is not one of gigroom's.")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if self.now().timestamp() > claims["e"]:
            raise BadLink("This upload link has expired: open the Deliver form again for a new one.")
        return Actor(claims["c"], claims["u"]), claims["o"]

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Runtime(Protocol):
    queries: Queries
    files: FileStore

    async def handle(self, command: c.Command) -> Outcome: ...


def add_upload_page(app: web.Application, links: UploadLinks, runtime: Runtime) -> None:
    async def show(request: web.Request) -> web.Response:
        try:
            _, order_id = links.read(request.match_info["token"])
        except (Refused, ValueError, KeyError) as error:
            return _page(getattr(error, "reason", "This upload link is not one of gigroom's."), status=403)
        return _page(f"Upload a file for order {order_id}. It is added to your draft delivery; then deliver from the "
                     "chat, where the Deliver form shows the draft's files.", form=True)

    async def upload(request: web.Request) -> web.Response:
        try:
            actor, order_id = links.read(request.match_info["token"])
            order = await asyncio.to_thread(runtime.queries.order, order_id)
            if order is None or order.community_id != actor.community_id:
                raise Refused(f"There is no order {order_id}.")
            part = await _file_part(request)
            ref = await runtime.files.put(part.filename or "upload", _chunks(part), order.policy.max_file_bytes)
            await runtime.handle(c.AddDraftFiles(actor=actor, order_id=order_id, files=(ref,),
                                                 key=f"upload:{ref.sha256}:{request.match_info['token'][-16:]}"))
        except BadLink as refusal:
            return _page(refusal.reason, status=403)
        except FileTooLarge as error:
            return _page(f"Not stored: {error}.", status=413, form=True)
        except Refused as refusal:
            return _page(f"Not stored: {refusal.reason}", status=400, form=True)
        except (ValueError, KeyError):
            return _page("This upload link is not one of gigroom's.", status=403)
        return _page(f"Stored {ref.name}: {ref.size:,} bytes, SHA-256 {ref.sha256}. It is in your draft for order "
                     f"{order_id}: back in the chat, click Deliver and keep the draft's files.")

    app.router.add_get(UPLOAD_PATH, show)
    app.router.add_post(UPLOAD_PATH, upload)


async def _file_part(request: web.Request) -> BodyPartReader:
    if not request.content_type.startswith("multipart/"):
        raise Refused("Send the file as a form upload (multipart/form-data).")
    reader = await request.multipart()
    async for part in reader:
        if isinstance(part, BodyPartReader) and part.filename:
            return part
    raise Refused("No file came with the upload.")


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


def _page(message: str, status: int = 200, form: bool = False) -> web.Response:
    upload = ('<form method="post" enctype="multipart/form-data"><input type="file" name="file" required> '
              '<button type="submit">Upload</button></form>') if form else ""
    body = (f"<!doctype html><html><head><meta charset='utf-8'><title>gigroom upload</title></head>"
            f"<body><h1>gigroom</h1><p>{html.escape(message)}</p>{upload}</body></html>")
    return web.Response(text=body, status=status, content_type="text/html")
