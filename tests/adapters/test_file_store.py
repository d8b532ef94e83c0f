"""The local file store on real files: streamed, content-addressed, and keeping nothing on failure."""

import asyncio
import hashlib
import os
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.files.local import CHUNK, LocalFileStore, sanitise_name
from core.order_parts import FileRef
from core.ports import FileStore, FileTooLarge

MiB = 1024 * 1024


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read_all(store: LocalFileStore, ref: FileRef) -> bytes:
    return b"".join([chunk async for chunk in store.open(ref)])


def left_in(root: Path) -> list[Path]:
    return [p for p in (root / "tmp").rglob("*")] + [p for p in (root / "objects").rglob("*") if p.is_file()]


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files")


async def test_round_trip_with_the_sha256_of_the_bytes(store: LocalFileStore) -> None:
    data = os.urandom(3 * MiB + 123)
    ref = await store.put("report.pdf", stream(data[:1000], data[1000:2 * MiB], data[2 * MiB:]), limit=10 * MiB)

    sha = hashlib.sha256(data).hexdigest()
    assert ref == FileRef(name="report.pdf", size=len(data), sha256=sha, key=sha)
    assert store.path(ref) == store.root / "objects" / sha[:2] / sha
    chunks = [chunk async for chunk in store.open(ref)]
    assert [len(c) for c in chunks] == [CHUNK, CHUNK, CHUNK, 123]
    assert b"".join(chunks) == data
    assert list((store.root / "tmp").iterdir()) == []


async def test_it_implements_the_port(store: LocalFileStore) -> None:
    port: FileStore = store
    ref = await port.put("a.txt", stream(b"hello"), limit=5)  # exactly the limit is allowed
    assert b"".join([c async for c in port.open(ref)]) == b"hello"


async def test_an_empty_file_is_stored(store: LocalFileStore) -> None:
    ref = await store.put("empty", stream(), limit=10)
    assert ref.size == 0 and ref.sha256 == hashlib.sha256(b"").hexdigest()
    assert await read_all(store, ref) == b""


async def test_a_stream_over_the_limit_is_refused_while_streaming(store: LocalFileStore) -> None:
    consumed = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal consumed
        for _ in range(10_000):  # 10 GB if anyone read it all
            consumed += 1
            yield bytes(MiB)

    with pytest.raises(FileTooLarge) as refused:
        await store.put("big.bin", endless(), limit=3 * MiB + 1)

    assert refused.value.limit == 3 * MiB + 1
    assert consumed == 4  # the fourth chunk passed the limit; nothing after it was asked for
    assert left_in(store.root) == []


async def test_a_stream_that_fails_midway_leaves_nothing(store: LocalFileStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * MiB
        yield b"y" * MiB
        raise ConnectionResetError("the upload dropped")

    with pytest.raises(ConnectionResetError):
        await store.put("upload.zip", broken(), limit=100 * MiB)
    assert left_in(store.root) == []


async def test_a_cancelled_write_leaves_nothing(store: LocalFileStore) -> None:
    started = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"z" * MiB
        started.set()
        await asyncio.sleep(3600)  # the client stalls
        yield b"never"

    task = asyncio.create_task(store.put("slow.bin", slow(), limit=100 * MiB))
    await started.wait()
    assert len(list((store.root / "tmp").iterdir())) == 1  # it was being written as it arrived
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert left_in(store.root) == []


async def test_identical_content_is_stored_once(store: LocalFileStore) -> None:
    first = await store.put("one.txt", stream(b"same ", b"bytes"), limit=100)
    second = await store.put("two.txt", stream(b"same bytes"), limit=100)

    assert first.key == second.key
    assert (first.name, second.name) == ("one.txt", "two.txt")
    assert [p.name for p in left_in(store.root)] == [first.key]
    assert await read_all(store, second) == b"same bytes"


@pytest.mark.parametrize("key", [
    "../../../etc/passwd",
    "../" + "a" * 61,
    "a" * 63,
    "a" * 65,
    "A" * 64,
    "g" * 64,
    "aa/" + "a" * 61,
    "a" * 64 + "\n",
    "",
])
async def test_a_malformed_key_is_rejected(store: LocalFileStore, key: str) -> None:
    ref = FileRef(name="x", size=1, sha256=key, key=key)
    with pytest.raises(ValueError, match="64 lowercase hex"):
        store.path(ref)
    with pytest.raises(ValueError, match="64 lowercase hex"):
        store.open(ref)


async def test_a_missing_file_is_reported_clearly(store: LocalFileStore) -> None:
    ref = FileRef(name="gone.txt", size=1, sha256="0" * 64, key="0" * 64)
    with pytest.raises(FileNotFoundError, match=r"'gone\.txt'.*not in the store"):
        store.open(ref)
    with pytest.raises(FileNotFoundError):
        store.path(ref)


async def test_memory_stays_bounded_for_a_large_stream(store: LocalFileStore) -> None:
    total = 200
    expected = hashlib.sha256()

    async def large() -> AsyncIterator[bytes]:
        for i in range(total):
            chunk = bytes([i % 251]) * MiB  # a fresh object each time, as a network stream gives
            expected.update(chunk)
            yield chunk

    started = time.perf_counter()
    tracemalloc.start()
    try:
        ref = await store.put("large.bin", large(), limit=total * MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert ref.size == total * MiB and ref.sha256 == expected.hexdigest()
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert time.perf_counter() - started < 10


def test_names_are_sanitised() -> None:
    assert sanitise_name("../../etc/passwd") == "passwd"
    assert sanitise_name("C:\\Users\\ann\\Desktop\\logo final.png") == "logo final.png"
    assert sanitise_name("line\nbreak\ttab\x00nul.txt") == "line break tab nul.txt"
    assert sanitise_name("invoice\u202egpj.exe") == "invoicegpj.exe"  # no right-to-left override
    assert sanitise_name("  spaced   out  ") == "spaced out"
    assert sanitise_name("résumé — 2026.pdf") == "résumé — 2026.pdf"
    assert sanitise_name("bad\udcffbyte.txt") == "badbyte.txt"
    for empty in ("", "   ", ".", "..", "dir/", "\x00\x01", "a/.."):
        assert sanitise_name(empty) == "file"

    long = sanitise_name("é" * 300 + ".tar.gz")
    assert len(long.encode()) <= 255 and long.endswith("é.gz")
    assert len(sanitise_name("x" * 1000).encode()) == 255
    assert sanitise_name("a." + "b" * 300).encode() == ("a." + "b" * 300).encode()[:255]


async def test_the_stored_name_is_sanitised(store: LocalFileStore) -> None:
    ref = await store.put("/tmp/../secret\n.txt", stream(b"x"), limit=1)
    assert ref.name == "secret .txt"


async def test_put_path_streams_a_local_file(store: LocalFileStore, tmp_path: Path) -> None:
    source = tmp_path / "design.psd"
    data = os.urandom(MiB + 7)
    source.write_bytes(data)

    ref = await store.put_path(source, limit=2 * MiB)
    assert ref.name == "design.psd" and ref.size == len(data)
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert await read_all(store, ref) == data
    assert (await store.put_path(source, limit=2 * MiB, name="final.psd")).name == "final.psd"

    with pytest.raises(FileTooLarge):
        await store.put_path(source, limit=MiB)
    with pytest.raises(FileNotFoundError, match=r"no file to store at .*nothing\.txt"):
        await store.put_path(tmp_path / "nothing.txt", limit=MiB)
    assert list((store.root / "tmp").iterdir()) == []


def test_stale_temp_files_are_swept_on_start(tmp_path: Path) -> None:
    root = tmp_path / "files"
    LocalFileStore(root)
    stale, live = root / "tmp" / "crashed.part", root / "tmp" / "writing.part"
    stale.write_bytes(b"half")
    live.write_bytes(b"half")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))

    LocalFileStore(root)
    assert list((root / "tmp").iterdir()) == [live]
