import pytest

from ewtp.celery import app
from hubs.scoping import actor_for
from tests.trade.conftest import BUYER, hgh, hkg, make_listing, mys, quote_listing, rules, yiw  # noqa: F401 (fixtures)
from trade.services import order_place


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what the block sends on commit (reactions, refunds) when it ends, as a worker
    would, in this process (the integration tests send them to a real worker)."""
    before = {name: app.conf[name] for name in ("task_always_eager", "task_eager_propagates")}
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    app.conf.update(before)


@pytest.fixture
def place_order(hkg, hgh, rules):  # noqa: F811 (fixtures)
    """Orders of a handbag from Hong Kong into Hangzhou (CNY both), placed by the seller's admin."""

    def place(stock=10):
        listing = make_listing(hkg, stock=stock)
        quote = quote_listing(hkg, hgh, listing)
        return order_place(actor=actor_for(hkg.seller_admin.user), quote=quote, buyer=BUYER)

    return place
