"""Rules of money: escrow, the fee on release, clearance, tips, withdrawals and a balanced ledger."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.db.tables import BalanceRow, LedgerEntryRow, LedgerTxnRow
from core import commands as c
from core import events as ev
from core import ledger
from core.engine import Outcome
from core.errors import NotFound, Refused
from core.lifecycle import OrderState
from core.order_parts import Resolution
from tests.market import Market, one

S = OrderState
T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)




def balances(market: Market) -> dict[tuple[str, str], int]:
    with Session(market.database.reader) as session:
        rows = session.execute(select(BalanceRow.account, BalanceRow.currency, BalanceRow.balance)
                               .where(BalanceRow.community_id == market.community.id)).all()
    return {(r.account, r.currency): r.balance for r in rows if r.balance}


def tip(market: Market, order_id: str, amount: int) -> Outcome:
    return market.do(c.Tip, market.buyer, order_id=order_id, amount=amount)


# ---- escrow and release --------------------------------------------------------------------------
def test_money_is_kept_in_integer_minor_units(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.ACCEPTED, price=1999)
    order = sqlite_market.get(order_id)
    for amount in (order.terms.total, order.escrow, order.pending, order.fees, order.to_seller):
        assert isinstance(amount, int)
    assert (order.pending, order.fees) == (1799, 200)  # 199.9 cents of fee round to 200
    assert all(isinstance(v, int) for v in balances(sqlite_market).values())


def test_the_money_waits_in_escrow_until_the_delivery_is_accepted(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    assert m.balance(f"escrow:{order_id}") == 5000
    assert m.balance("fees") == 0 and m.balance(f"pending:sam:{order_id}") == 0


@pytest.mark.parametrize(("price", "fee_taken"), [(5005, 501), (5004, 500), (5, 1), (4, 0)])
def test_the_fee_is_taken_on_release_rounded_half_up(market: Market, price: int, fee_taken: int) -> None:
    order_id = market.order(until=S.DELIVERED, price=price)
    assert market.balance("fees") == 0  # nothing is taken before the release
    accepted = one(market.do(c.AcceptDelivery, market.buyer, order_id=order_id), ev.DeliveryAccepted)
    assert (accepted.fee, accepted.released) == (fee_taken, price - fee_taken)
    assert market.balance("fees") == fee_taken
    assert market.balance(f"pending:sam:{order_id}") == price - fee_taken
    assert market.balance(f"escrow:{order_id}") == 0


def test_the_released_amount_is_the_seller_s_forecast_net_earnings(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED, extras=("nda", "rev"))
    forecast = m.get(order_id).terms.net
    assert forecast == 6500 - 650
    assert one(m.do(c.AcceptDelivery, m.buyer, order_id=order_id), ev.DeliveryAccepted).released == forecast


def test_the_fee_is_the_one_in_force_when_the_order_was_placed(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    m.do(c.SetPolicy, m.admin, setting="fee_bps", value="2000")
    assert one(m.do(c.AcceptDelivery, m.buyer, order_id=order_id), ev.DeliveryAccepted).fee == 500


def test_a_community_with_no_fee_pays_the_seller_everything(sqlite_market: Market) -> None:
    m = sqlite_market
    m.do(c.SetPolicy, m.admin, setting="fee_bps", value="0")
    order_id = m.order(until=S.ACCEPTED)
    assert m.balance(f"pending:sam:{order_id}") == 5000 and m.balance("fees") == 0


def test_an_order_in_another_currency_is_kept_in_that_currency(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED, currency="EUR")
    assert m.balance(f"pending:sam:{order_id}", "EUR") == 4500 and m.balance("fees", "EUR") == 500
    assert m.balance(f"pending:sam:{order_id}", "USD") == 0 and m.balance("fees", "USD") == 0


# ---- clearance and withdrawals -------------------------------------------------------------------
def test_earnings_clear_5_days_after_completion_and_can_then_be_withdrawn(market: Market,
                                                                         time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.COMPLETED)
    nothing_yet = re.escape("You have 0.00 USD available to withdraw: 45.00 USD is more than that")
    with pytest.raises(Refused, match=nothing_yet):
        market.do(c.RequestWithdrawal, market.seller, amount=4500)
    time_machine.shift(timedelta(days=5) - timedelta(seconds=1))
    market.fire()
    assert market.balance("available:sam") == 0
    time_machine.shift(timedelta(seconds=1))
    assert market.fire() == 1
    assert market.balance("available:sam") == 4500
    assert market.balance(f"pending:sam:{order_id}") == 0
    cleared = [e for e in market.history(order_id) if isinstance(e, ev.FundsCleared)]
    assert [(e.amount, e.currency, e.at) for e in cleared] == [(4500, "USD", T0 + timedelta(days=5))]

    requested = one(market.do(c.RequestWithdrawal, market.seller, amount=4000), ev.WithdrawalRequested)
    assert (requested.seller_id, requested.amount, requested.currency) == ("sam", 4000, "USD")
    assert market.balance("available:sam") == 500 and market.balance("withdrawing:sam") == 4000
    paid = one(market.do(c.PayWithdrawal, market.admin, withdrawal_id=requested.withdrawal_id,
                         reference=" bank ref 42 "), ev.WithdrawalPaid)
    assert (paid.amount, paid.admin_id, paid.reference) == (4000, "ada", "bank ref 42")
    assert market.balance("withdrawing:sam") == 0 and market.balance("paid_out:sam") == 4000
    with pytest.raises(Refused, match=f"Withdrawal {requested.withdrawal_id} was already marked paid"):
        market.do(c.PayWithdrawal, market.admin, withdrawal_id=requested.withdrawal_id)
    assert market.balance("paid_out:sam") == 4000


@pytest.mark.parametrize(("amount", "reason"), [
    (0, "A withdrawal must be more than zero"),
    (-100, "A withdrawal must be more than zero"),
    (4501, re.escape("You have 45.00 USD available to withdraw: 45.01 USD is more than that")),
])
def test_a_withdrawal_is_for_no_more_than_the_available_balance(sqlite_market: Market, time_machine: Any,
                                                                amount: int, reason: str) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    m.order(until=S.COMPLETED)
    time_machine.shift(timedelta(days=5))
    m.fire()
    with pytest.raises(Refused, match=reason):
        m.do(c.RequestWithdrawal, m.seller, amount=amount)
    assert m.balance("available:sam") == 4500 and m.balance("withdrawing:sam") == 0


def test_a_withdrawal_in_an_unknown_currency_is_refused(sqlite_market: Market) -> None:
    with pytest.raises(Refused, match="is not a currency code"):
        sqlite_market.do(c.RequestWithdrawal, sqlite_market.seller, amount=100, currency="euros")


def test_only_admins_mark_withdrawals_paid(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    m.order(until=S.COMPLETED)
    time_machine.shift(timedelta(days=5))
    m.fire()
    withdrawal_id = m.do(c.RequestWithdrawal, m.seller, amount=4500).ref
    for who in (m.seller, m.buyer):
        with pytest.raises(Refused, match="Only admins mark withdrawals as paid"):
            m.do(c.PayWithdrawal, who, withdrawal_id=withdrawal_id)
    with pytest.raises(NotFound, match="There is no withdrawal W0000000 here"):
        m.do(c.PayWithdrawal, m.admin, withdrawal_id="W0000000")
    other = Market(m.database, community="other")
    with pytest.raises(NotFound, match=f"There is no withdrawal {withdrawal_id} here"):
        other.do(c.PayWithdrawal, other.admin, withdrawal_id=withdrawal_id)
    with pytest.raises(Refused, match=re.escape("You have 0.00 USD available")):
        other.do(c.RequestWithdrawal, other.seller, amount=100)
    assert m.balance("withdrawing:sam") == 4500 and m.balance("paid_out:sam") == 0


def test_a_cancelled_order_s_share_for_the_seller_clears_too(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    m.do(c.Resolve, m.admin, order_id=order_id, resolution=Resolution.CANCEL, refund=3000)
    time_machine.shift(timedelta(days=5))
    m.fire()
    assert m.balance("available:sam") == 1800  # 2000 less the 10% fee
    assert m.balance(f"pending:sam:{order_id}") == 0


# ---- tips ----------------------------------------------------------------------------------------
def test_after_completion_the_buyer_may_tip_the_seller_and_the_fee_applies(market: Market) -> None:
    order_id = market.order(until=S.COMPLETED)
    sent = one(tip(market, order_id, 1005), ev.TipSent)
    assert (sent.amount, sent.fee, sent.currency) == (1005, 101, "USD")  # 100.5 rounds half up
    assert market.balance("payments:bea") == -6005
    assert market.balance(f"pending:sam:{order_id}") == 4500 + 904
    assert market.balance("fees") == 500 + 101
    order = market.get(order_id)
    assert (order.tips, order.to_seller, order.fees) == (1005, 5404, 601)


@pytest.mark.parametrize("until", [S.IN_PROGRESS, S.DELIVERED, S.ACCEPTED])
def test_a_tip_comes_after_completion(sqlite_market: Market, until: OrderState) -> None:
    order_id = sqlite_market.order(until=until)
    with pytest.raises(Refused, match=f"You can't tip the seller now: order {order_id} is {until.label}"):
        tip(sqlite_market, order_id, 500)


def test_only_the_buyer_tips_and_a_tip_is_more_than_zero(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.COMPLETED)
    with pytest.raises(Refused, match="Only the buyer can tip the seller"):
        m.do(c.Tip, m.seller, order_id=order_id, amount=500)
    for amount in (0, -500):
        with pytest.raises(Refused, match="A tip must be more than zero"):
            tip(m, order_id, amount)
    for amount in (10**13 + 1, 10**19):  # past what the ledger's 64-bit amounts hold, too
        with pytest.raises(Refused, match=r"A tip of .* is more than gigroom handles in one amount"):
            tip(m, order_id, amount)
    assert m.balance("payments:bea") == -5000


def test_a_tip_after_clearance_clears_5_days_later(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.COMPLETED)
    time_machine.shift(timedelta(days=6))
    m.fire()
    assert m.balance("available:sam") == 4500
    tip(m, order_id, 1000)
    assert m.get(order_id).clears_at == T0 + timedelta(days=11)
    time_machine.shift(timedelta(days=5) - timedelta(seconds=1))
    m.fire()
    assert m.balance("available:sam") == 4500
    time_machine.shift(timedelta(seconds=1))
    m.fire()
    assert m.balance("available:sam") == 5400


# ---- the ledger ----------------------------------------------------------------------------------
def test_every_movement_is_a_balanced_transaction(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    done = market.order(until=S.COMPLETED)
    market.order(until=S.AWAITING_ACCEPTANCE)
    declined = market.order(until=S.AWAITING_ACCEPTANCE)
    market.do(c.DeclineOrder, market.seller, order_id=declined)
    partial = market.order(until=S.DELIVERED)
    market.do(c.Resolve, market.admin, order_id=partial, resolution=Resolution.CANCEL, refund=1234)
    tip(market, done, 777)
    time_machine.shift(timedelta(days=5))
    market.fire()
    market.do(c.PayWithdrawal, market.admin,
              withdrawal_id=market.do(c.RequestWithdrawal, market.seller, amount=1000).ref)
    with Session(market.database.reader) as session:
        per_txn = session.execute(select(LedgerTxnRow.id, func.sum(LedgerEntryRow.amount))
                                  .join(LedgerEntryRow, LedgerEntryRow.txn_id == LedgerTxnRow.id)
                                  .where(LedgerTxnRow.community_id == market.community.id)
                                  .group_by(LedgerTxnRow.id)).all()
    assert len(per_txn) >= 10 and all(total == 0 for _, total in per_txn)
    found = balances(market)
    assert sum(found.values()) == 0  # whatever came in is somewhere
    assert all(amount > 0 for (account, _), amount in found.items() if not account.startswith("payments:"))
    assert found[("paid_out:sam", "USD")] == 1000


def test_an_unbalanced_transaction_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        ledger.Transaction(ledger.TxnKind.RELEASE, "USD", (ledger.Posting("escrow:O1", -100),
                                                           ledger.Posting("pending:sam:O1", 90)))
    with pytest.raises(ValueError, match="empty posting"):
        ledger.Transaction(ledger.TxnKind.RELEASE, "USD", (ledger.Posting("a", 0), ledger.Posting("b", 0)))
    txn, net, taken = ledger.release("USD", "escrow:O1", "sam", "O1", 10_000, 1000)
    assert (net, taken) == (9000, 1000)
    assert {p.account: p.amount for p in txn.postings} == {"escrow:O1": -10_000, "pending:sam:O1": 9000,
                                                           "fees": 1000}


# ---- the community's maximum amount ----------------------------------------------------------------
def test_a_withdrawal_of_any_size_is_refused_with_a_clear_message_before_the_store(market: Market) -> None:
    """10**30 overflows a BIGINT and used to crash formatting the refusal: the core refuses it first."""
    said = "A withdrawal of 10,000,000,000,000,000,000,000,000,000.00 USD is more than gigroom handles in one amount"
    with pytest.raises(Refused, match=re.escape(said)):
        market.do(c.RequestWithdrawal, market.seller, amount=10**30)
    assert market.balance("withdrawing:sam") == 0


def test_the_community_maximum_bounds_prices_extras_offers_tips_and_withdrawals(sqlite_market: Market,
                                                                                time_machine: Any) -> None:
    from dataclasses import replace

    from tests.market import SERVICE
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.COMPLETED)  # placed before the maximum is set: a tip is checked against today's
    time_machine.shift(timedelta(days=5))
    m.fire()
    m.do(c.SetPolicy, m.admin, setting="max_amount", value="100")
    over = "is more than this community's maximum of 100.00 USD"
    with pytest.raises(Refused, match=f"A price of 100.01 USD {over}"):
        m.listing(price=10001)
    extras = (*SERVICE.extras[:2], replace(SERVICE.extras[2], price=20000))
    with pytest.raises(Refused, match=f"The extra 'rev' of 200.00 USD {over}"):
        m.listing(extras=extras)
    with pytest.raises(Refused, match=f"A price of 150.00 USD {over}"):
        m.do(c.MakeOffer, m.seller, buyer_id="bea", service=replace(SERVICE, price=15000))
    with pytest.raises(Refused, match=f"A tip of 100.01 USD {over}"):
        tip(m, order_id, 10001)
    with pytest.raises(Refused, match=f"A withdrawal of 100.01 USD {over}"):
        m.do(c.RequestWithdrawal, m.seller, amount=10001)
    assert m.listing(price=10000)  # the maximum itself is allowed
    tip(m, order_id, 10000)
    m.do(c.RequestWithdrawal, m.seller, amount=4500)
    m.do(c.SetPolicy, m.admin, setting="max_amount", value="none")
    assert m.listing(price=10001)
