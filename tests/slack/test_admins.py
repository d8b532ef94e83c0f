"""Who is an admin on Slack: the workspace's admins and owners, GIGROOM_SLACK_ADMINS, and the policy's `admins`.

One rule for every `/gig admin` subcommand and every admin read: a person the policy names is an admin on
Slack as in the shell; anyone else is refused, and nothing changes.
"""

import time
from dataclasses import dataclass

import pytest

from adapters.slack.actors import ADMIN_LOOKUP_SECONDS
from core import commands as c
from core.actor import Actor
from core.lifecycle import OrderState
from core.order_parts import Resolution
from tests.slack.test_order_flow import make_listing
from tests.slack.world import ADMIN, BUYER, SELLER, STRANGER, TEAM, World

pytestmark = pytest.mark.timeout(60)

POLICY_ADMIN = STRANGER  # no Slack admin, not in GIGROOM_SLACK_ADMINS: only the policy names them
NOBODY = "UNED"  # a member of the workspace and nothing more


@dataclass
class Scene:
    paused: str  # an order in progress, paused by the buyer's problem report
    escrow: str  # an order in progress, its payment in escrow
    withdrawal: str  # the seller's withdrawal, waiting to be paid


async def scene(world: World) -> Scene:
    """A workspace admin names POLICY_ADMIN in the policy; orders and a withdrawal for the admin commands to act on."""
    world.slack.add_user(TEAM, NOBODY, name="ned")
    await world.command(ADMIN, f"admin policy admins {POLICY_ADMIN}")
    await world.command(ADMIN, "admin policy clearance 0m")
    community = world.gig.queries.communities()[0]
    assert community.policy.admins == (POLICY_ADMIN,), world.said_to(ADMIN)
    listing_id = await make_listing(world, questions="")
    for _ in range(3):
        await world.command(BUYER, f"order {listing_id}")
    paid, paused, escrow = sorted(o.id for o in world.gig.queries.orders(None, BUYER))
    for order_id in (paid, paused, escrow):
        await world.gig.handle(c.AcceptOrder(actor=Actor(community.id, SELLER), order_id=order_id))
    await world.gig.handle(c.Resolve(actor=Actor(community.id, ADMIN, is_admin=True), order_id=paid,
                                     resolution=Resolution.COMPLETE))
    await world.gig.handle(c.ReportProblem(actor=Actor(community.id, BUYER), order_id=paused,
                                           reason="No word from the seller"))
    await world.settle()  # the completed order's earnings clear at once
    outcome = await world.gig.handle(c.RequestWithdrawal(actor=Actor(community.id, SELLER), amount=4500))
    await world.settle()
    return Scene(paused, escrow, outcome.ref)


async def admin_did(world: World, who: str, subcommand: str, s: Scene) -> bool:
    """Run one `/gig admin` subcommand as `who`; whether it did its work (False: refused, nothing changed)."""
    uploads = len(world.slack.calls_to("files.completeUploadExternal"))
    await world.command(who, "admin " + subcommand.format(paused=s.paused, escrow=s.escrow, withdrawal=s.withdrawal))
    name = subcommand.split()[0]
    order = world.gig.queries.order
    did = {
        "policy": lambda: world.heard(who, "review_window"),
        "orders": lambda: world.heard(who, s.escrow),
        "problems": lambda: world.heard(who, "No word from the seller"),
        "resolve": lambda: order(s.paused).problem is None,
        "refund": lambda: order(s.escrow).state is OrderState.CANCELLED,
        "withdrawals": lambda: world.heard(who, s.withdrawal),
        "pay": lambda: bool(world.gig.queries.withdrawals(None, "paid")),
        "export": lambda: len(world.slack.calls_to("files.completeUploadExternal")) > uploads,
    }[name]()
    if name == "policy" and did:
        did = world.gig.queries.communities()[0].policy.fee_bps == 500
    return did


SUBCOMMANDS = ["policy fee_bps 500", "orders", "problems", "resolve {paused} resume", "refund {escrow}",
               "withdrawals", "pay {withdrawal} bank-7", "export orders"]


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
async def test_a_person_the_policy_names_as_admin_may_run_every_admin_subcommand(world: World,
                                                                                  subcommand: str) -> None:
    s = await scene(world)
    assert await admin_did(world, POLICY_ADMIN, subcommand, s), world.said_to(POLICY_ADMIN)
    assert not world.heard(POLICY_ADMIN, "Only this workspace's admins")


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
async def test_a_person_no_admin_setting_names_is_refused_every_admin_subcommand(world: World,
                                                                                 subcommand: str) -> None:
    s = await scene(world)
    assert not await admin_did(world, NOBODY, subcommand, s)
    assert world.heard(NOBODY, "Only this workspace's admins")


async def test_a_person_the_policy_names_as_admin_sees_an_orders_earnings_and_others_do_not(world: World) -> None:
    s = await scene(world)
    channel = world.order_channel(s.escrow)
    await world.click(POLICY_ADMIN, world.board(s.escrow), channel, "My earnings")
    assert world.heard(POLICY_ADMIN, "forecast net earnings")
    await world.click(NOBODY, world.board(s.escrow), channel, "My earnings")
    # a stranger may not read the order at all: the core's read rule answers before the earnings' own check
    assert world.heard(NOBODY, "is not yours") and not world.heard(NOBODY, "forecast net earnings")


async def test_taking_a_person_out_of_the_policys_admins_takes_their_admin_power_at_once(world: World) -> None:
    await scene(world)
    await world.command(ADMIN, "admin policy admins ,")
    await world.command(POLICY_ADMIN, "admin orders")
    assert world.heard(POLICY_ADMIN, "Only this workspace's admins")


async def test_asking_slack_who_administers_the_workspace_never_holds_the_ack_past_slacks_3_seconds(
        world: World) -> None:
    world.slack.rate_limit("users.info", times=50, retry_after=2)  # Slack throttles users.info for a while
    started = time.monotonic()
    answer = await world.command(ADMIN, "admin orders", settle=False)
    assert answer.status == 200 and time.monotonic() - started < ADMIN_LOOKUP_SECONDS + 1
    await world.settle()
    world.slack.rate_limit("users.info", times=0)
    await world.command(ADMIN, "admin orders")
    assert world.heard(ADMIN, "*Orders*"), "Slack's word, once it comes, makes the admin an admin"
