"""Listeners that never raise: a failure is logged and the person is told, privately.

Bolt's AsyncApp runs a listener beside its wait for the ack; an exception raised shortly after the
ack overwrites it, and Bolt then answers Slack 404 (slack_bolt/listener/asyncio_runner.py). So every
listener's own failure (Slack down past the client's retries, a bug) ends here instead.
"""

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)
TROUBLE = "gigroom could not finish that just now; nothing was lost. Please try again in a minute."
Listener = Callable[..., Awaitable[None]]


def guarded(listener: Listener) -> Listener:
    @functools.wraps(listener)
    async def run(*args: Any, **kwargs: Any) -> None:
        try:
            await listener(*args, **kwargs)
        except Exception:
            log.exception("the Slack listener %s failed", listener.__name__)
            await _tell(kwargs)

    return run


async def _tell(kwargs: dict[str, Any]) -> None:
    respond, client, context = kwargs.get("respond"), kwargs.get("client"), kwargs.get("context")
    try:
        if respond is not None and (kwargs.get("body") or {}).get("response_url"):
            await respond(text=TROUBLE, response_type="ephemeral", replace_original=False)
        elif client is not None and context is not None and context.user_id:
            dm = await client.conversations_open(users=context.user_id)
            await client.chat_postMessage(channel=dm["channel"]["id"], text=TROUBLE)
    except Exception:
        log.exception("could not tell %s that a Slack listener failed", context.user_id if context else "anyone")
