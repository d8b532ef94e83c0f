"""Who is acting on Slack: each request's Actor, built once by a Bolt middleware, admin or not decided here alone.

An admin is a workspace admin or owner (Slack's `is_admin`/`is_owner`), a user named in GIGROOM_SLACK_ADMINS, or
a user named in the community policy's `admins`, applied through the core's own `with_admin`, as the shell and
the engine do. Every listener then reads `context["actor"].is_admin`: `/gig admin`, the board's buttons and every
admin read give one answer. Slack's word costs an API call before the ack, so it is asked only when gigroom's
own settings do not already say admin, kept for five minutes, and never waited on longer than a second.
"""

import asyncio
import logging
import time
from typing import Any, Protocol

import aiohttp
from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.db.queries import Queries
from core.actor import Actor
from core.community import Community
from core.engine import with_admin

log = logging.getLogger(__name__)
PLATFORM = "slack"
ADMIN_CHECK_SECONDS = 300  # how long Slack's word on who administers the workspace is trusted
ADMIN_LOOKUP_SECONDS = 1.0  # users.info runs before the ack: a rate-limited answer must not eat Slack's 3 seconds


class Communities(Protocol):
    queries: Queries

    def community(self, platform: str, external_id: str, name: str, admins: tuple[str, ...] = ()) -> Community: ...


class SlackActors:
    """Resolves the acting person of every request, once, into `context["actor"]`."""

    def __init__(self, runtime: Communities, admins: frozenset[str] = frozenset()) -> None:
        self.runtime, self.admins = runtime, admins
        self._communities: dict[str, str] = {}  # team id -> community id, once ensured
        self._slack_admins: dict[tuple[str, str], tuple[bool, float]] = {}  # (admin?, when Slack said so)

    async def middleware(self, context: AsyncBoltContext, body: dict[str, Any], client: AsyncWebClient,
                         next: Any) -> None:
        team_id, user_id = context.team_id, context.user_id
        if team_id and user_id:
            name = (body.get("team") or {}).get("domain") or body.get("team_domain") or team_id
            context["actor"] = await self.actor(team_id, user_id, name, client)
        await next()

    async def actor(self, team_id: str, user_id: str, team_name: str, client: AsyncWebClient) -> Actor:
        """The person acting in this workspace's community, an admin when any of the three says so."""
        community = await asyncio.to_thread(self._community, team_id, team_name)
        actor = with_admin(Actor(community.id, user_id, is_admin=user_id in self.admins), community.policy)
        if actor.is_admin or not await self._slack_says_admin(client, community.id, user_id):
            return actor
        return Actor(community.id, user_id, is_admin=True)

    def _community(self, team_id: str, team_name: str) -> Community:
        """Read afresh each request: an admin named in the policy a moment ago is an admin now."""
        community_id = self._communities.get(team_id)
        found = self.runtime.queries.community(community_id) if community_id else None
        if found is None:
            found = self.runtime.community(PLATFORM, team_id, team_name)
            self._communities[team_id] = found.id
        return found

    async def _slack_says_admin(self, client: AsyncWebClient, community_id: str, user_id: str) -> bool:
        key = (community_id, user_id)
        known = self._slack_admins.get(key)
        if known is not None and time.monotonic() - known[1] <= ADMIN_CHECK_SECONDS:
            return known[0]
        try:
            found = await asyncio.wait_for(client.users_info(user=user_id), ADMIN_LOOKUP_SECONDS)
        except (SlackApiError, TimeoutError, aiohttp.ClientError) as error:
            log.warning("could not ask Slack whether %s administers %s (%r): going by what gigroom knew",
                        user_id, community_id, error)
            return known[0] if known else False
        user = found.get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner"))
        self._slack_admins[key] = (admin, time.monotonic())
        return admin
