"""The overview: health, the queue, subscriptions in trouble and the last day's events per type."""

from __future__ import annotations

from connector.api import context
from connector.console import signin
from connector.console.blueprint import bp
from connector.console.charts import bar_chart
from connector.console.pages import page
from connector.services import overview as overview_service


@bp.get("/")
def overview() -> tuple[str, int]:
    with context.session() as session:
        found = overview_service.overview(context.runtime(), session, signin.current())
        return page("console/overview.html", overview=found, chart=bar_chart(found.traffic))
