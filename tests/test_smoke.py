from core.lifecycle import OrderState
from tests.market import Market


def test_an_order_runs_from_placement_to_completion(market: Market) -> None:
    order_id = market.order(until=OrderState.COMPLETED)
    assert market.get(order_id).state is OrderState.COMPLETED
