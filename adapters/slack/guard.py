"""Listeners that never raise: a failure is logged and the person is told, privately.

Bolt's AsyncApp runs a listener beside its wait for the ack; an exception raised shortly after the
ack overwrites it, and Bolt then answers Slack 404 (slack_bolt/listener/asyncio_runner.py). So every
listener's own failure (Slack down past the client's retries, a bug) ends here instead.

A modal's submission is answered by its ack: one that fails before its ack (a field of a type the form
does not read, a callback gigroom has no form for) is still acked, with the trouble shown in the modal,
or Slack would show the person its own connection error.
"""

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)
TROUBLE = "gigroom could not finish that just now; nothing was lost. Please try again in a minute."
UNREADABLE = "gigroom could not read this form, so nothing was changed. Close it and open it again from the order's board."
Listener = Callable[..., Awaitable[None]]


def guarded(listener: Listener) -> Listener:
    @functools.wraps(listener)
    async def run(*args: Any, **kwargs: Any) -> None:
        ack, acked = kwargs.get("ack"), False
        if ack is not None:
            async def tracked(*ack_args: Any, **ack_kwargs: Any) -> Any:
                nonlocal acked
                acked = True
                return await ack(*ack_args, **ack_kwargs)
            kwargs["ack"] = tracked
        try:
            await listener(*args, **kwargs)
        except Exception:
            log.exception("the Slack listener %s failed", listener.__name__)
            if ack is not None and not acked and "view" in kwargs:
                await ack(response_action="update", view=unreadable_view())
                return
            await _tell(kwargs)

    return run


def unreadable_view(text: str = UNREADABLE) -> dict[str, Any]:
    """What a modal becomes when its submission cannot be read: the reason, and a Close button."""
    return {"type": "modal", "callback_id": "gig:done", "title": {"type": "plain_text", "text": "gigroom"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


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
