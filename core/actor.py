"""Who is acting: a person of one community, as their platform identifies them."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    community_id: str
    user_id: str
    is_admin: bool = False  # the platform says so (workspace admin, server manager) or the policy lists them


@dataclass(frozen=True, slots=True)
class Owed:
    user_id: str
    what: str
