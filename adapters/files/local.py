"""The file store on the local disk: content-addressed, streamed in and out, never whole in memory.

Layout under `root`:
    tmp/<uuid>.part          a write in progress (removed on failure; swept at start-up after an hour)
    objects/<sha[:2]>/<sha>  a stored file, named by the SHA-256 of its bytes (identical files are kept once)
"""

import asyncio
import contextlib
import hashlib
import os
import re
import time
import unicodedata
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from pathlib import Path
from uuid import uuid4

import aiofiles

from core.order_parts import FileRef
from core.ports import FileTooLarge

CHUNK = 1024 * 1024
STALE_AFTER = 3600.0  # seconds a temp file may be left by a crashed write before it is swept
MAX_NAME_BYTES = 255
_KEY = re.compile(r"[0-9a-f]{64}")
_CLEAN = {"Cc": " ", "Cf": "", "Cs": ""}


def sanitise_name(name: str) -> str:
    """A readable display name: no directories, no control characters, at most 255 bytes of UTF-8."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    # control characters (newlines, tabs, NUL) become spaces; format characters (bidi overrides that
    # disguise an extension, zero-width spaces) and lone surrogates go
    name = "".join(_CLEAN.get(unicodedata.category(c), c) for c in name)
    name = " ".join(name.split())
    if name.strip(".") == "":
        return "file"
    if len(name.encode()) > MAX_NAME_BYTES:  # cut the stem, keeping a short extension
        stem, dot, ext = name.rpartition(".")
        suffix = dot + ext if stem and len(ext.encode()) <= 16 else ""
        budget = MAX_NAME_BYTES - len(suffix.encode())
        name = name[: len(name) - len(suffix)].encode()[:budget].decode(errors="ignore").rstrip() + suffix
    return name


class LocalFileStore:
    """The FileStore port on a local directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._objects = root / "objects"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._objects.mkdir(parents=True, exist_ok=True)
        self._sweep()

    def _sweep(self) -> None:
        """Remove temp files a crashed write left behind (younger ones may belong to a live writer)."""
        cutoff = time.time() - STALE_AFTER
        for entry in self._tmp.iterdir():
            with contextlib.suppress(OSError):
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    entry.unlink()

    async def put(self, name: str, chunks: AsyncIterable[bytes], limit: int) -> FileRef:
        """Store a stream; raises FileTooLarge as soon as it passes `limit` bytes, keeping nothing."""
        display = sanitise_name(name)
        tmp = self._tmp / f"{uuid4().hex}.part"
        digest = hashlib.sha256()
        size = 0
        # created here, in the loop, then opened without O_CREAT: however a cancellation falls, the unlink
        # below cannot run before the file exists, nor can a late open in the pool bring it back
        tmp.touch(mode=0o600, exist_ok=False)
        try:
            async with aiofiles.open(tmp, "r+b") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise FileTooLarge(limit)
                    digest.update(chunk)
                    await out.write(chunk)
                await out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            sha = digest.hexdigest()
            await asyncio.to_thread(self._commit, tmp, self._objects / sha[:2] / sha)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return FileRef(name=display, size=size, sha256=sha, key=sha)

    @staticmethod
    def _commit(tmp: Path, target: Path) -> None:
        if target.exists():
            tmp.unlink(missing_ok=True)  # the same bytes are stored already
            return
        target.parent.mkdir(exist_ok=True)
        os.replace(tmp, target)
        if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
            dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    async def put_path(self, path: Path, limit: int, name: str | None = None) -> FileRef:
        """Store a local file by streaming it, under `name` or its own file name."""
        if not path.is_file():
            raise FileNotFoundError(f"no file to store at {path}")
        if path.stat().st_size > limit:
            raise FileTooLarge(limit)  # refused before reading; `put` still checks in case it grows
        async with contextlib.aclosing(_read(path)) as chunks:
            return await self.put(path.name if name is None else name, chunks, limit)

    def path(self, ref: FileRef) -> Path:
        """Where the file's bytes are on disk; raises ValueError for a malformed key, FileNotFoundError if absent."""
        if not isinstance(ref.key, str) or not _KEY.fullmatch(ref.key):
            raise ValueError(f"not a file store key (64 lowercase hex digits expected): {ref.key!r}")
        target = self._objects / ref.key[:2] / ref.key
        if not target.is_file():
            raise FileNotFoundError(f"file {ref.name!r} ({ref.key}) is not in the store at {self.root}")
        return target

    def open(self, ref: FileRef) -> AsyncIterator[bytes]:
        """The file's bytes in chunks of 1 MiB; a bad key or a missing file raises here, not on first read."""
        return _read(self.path(ref))


async def _read(path: Path) -> AsyncGenerator[bytes, None]:
    async with aiofiles.open(path, "rb") as source:
        while chunk := await source.read(CHUNK):
            yield chunk
