"""Which ``(module, action)`` pairs BillRun must fire for a tenant's subscriptions.

A subscription name expands (``Catalog.billrun_pairs``) to the concrete pairs BillRun really fires: a type to its own pair (none
when BillRun never fires it, such as ``balances.afterBalanceCreation``), an ``<entity>.trackchanges``
group to its actions, ``<module>.*`` to every action of the module, ``*`` to every pair. Custom
collection steps are free text, so the catalog cannot list them: ``collection.*`` and ``*`` add the
step names the operator gave at connect (``--collection-step``), and a subscription to one
``collection.<step>`` registers that step.
"""

from __future__ import annotations

from collections.abc import Iterable

from connector.catalog import Catalog

Pair = tuple[str, str]
COLLECTION = "collection"
EVERYTHING = "*"
MODULE_WILDCARD = ".*"


def wanted_pairs(catalog: Catalog, names: Iterable[str], collection_steps: Iterable[str]) -> set[Pair]:
    """Every pair some of the subscription *names* needs, with the operator's collection steps."""
    steps = {(COLLECTION, step) for step in collection_steps}
    wanted: set[Pair] = set()
    for name in names:
        wanted.update(catalog.billrun_pairs(name))
        if name in (EVERYTHING, COLLECTION + MODULE_WILDCARD):
            wanted |= steps
    return wanted
