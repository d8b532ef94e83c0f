"""Communities (a Slack workspace, a Discord server, the shell) and sellers' withdrawals."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.policy import Policy


@dataclass(slots=True)
class Community:
    id: str  # "<platform>:<the platform's id>", e.g. "slack:T0123", "discord:81234", "shell:local"
    platform: str
    name: str
    policy: Policy
    created_at: datetime

    @staticmethod
    def key(platform: str, external_id: str) -> str:
        return f"{platform}:{external_id}"


class WithdrawalState(StrEnum):
    REQUESTED = "requested"
    PAID = "paid"


@dataclass(slots=True)
class Withdrawal:
    id: str
    community_id: str
    seller_id: str
    amount: int
    currency: str
    requested_at: datetime
    state: WithdrawalState = WithdrawalState.REQUESTED
    paid_at: datetime | None = None
    paid_by: str | None = None
    reference: str = ""
