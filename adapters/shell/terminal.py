"""Lines typed at a terminal: line editing, a history file, Ctrl-C drops the line, Ctrl-D leaves.

prompt_toolkit rather than the standard library's readline: CPython edits lines with readline only in
input() on the main thread, and here the main thread runs asyncio, whose relay and timers keep
working while the prompt waits. prompt_toolkit's prompt is a coroutine on that same loop, and it
prints the updates that arrive meanwhile above the line being typed.
"""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.patch_stdout import patch_stdout


async def terminal_lines(prompt: Callable[[], str], history: Path) -> AsyncIterator[str]:
    """Each line typed; Ctrl-C cancels the line being typed and prompts again; Ctrl-D ends."""
    history.parent.mkdir(parents=True, exist_ok=True)
    session: PromptSession[str] = PromptSession(history=FileHistory(str(history)))
    with patch_stdout(raw=True):
        while True:
            try:
                line = await session.prompt_async(prompt())
            except KeyboardInterrupt:
                continue
            except EOFError:
                return
            yield line
