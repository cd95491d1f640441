"""Which ``(module, action)`` pairs BillRun must fire for a tenant's subscriptions.

A subscription name expands to the concrete pairs BillRun really fires: a type to its own pair (none
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


def catalog_pairs(catalog: Catalog, name: str) -> set[Pair]:
    """The pairs BillRun fires for the subscription name *name*, from the catalog alone.

    The catalog contract names this ``Catalog.billrun_pairs(name)``; until that method is in this
    branch, this one function stands for it (swap its body for ``catalog.billrun_pairs(name)``).
    """
    fired = [entry for entry in catalog.types() if entry.kind == "event" and entry.fired_by_billrun]
    if name == EVERYTHING:
        return {(entry.module, entry.action) for entry in fired}
    if name.endswith(MODULE_WILDCARD):
        module = name[: -len(MODULE_WILDCARD)]
        return {(entry.module, entry.action) for entry in fired if entry.module == module}
    entry = catalog.get(name)
    if entry is None:
        return set()
    if entry.kind == "group":
        names = set(entry.expands_to)
        return {(e.module, e.action) for e in fired if e.type in names}
    if entry.kind == "event":
        return {(entry.module, entry.action)} if entry.fired_by_billrun else set()
    module, _, action = name.partition(".")  # a concrete custom collection step
    return {(module, action)}


def wanted_pairs(catalog: Catalog, names: Iterable[str], collection_steps: Iterable[str]) -> set[Pair]:
    """Every pair some of the subscription *names* needs, with the operator's collection steps."""
    steps = {(COLLECTION, step) for step in collection_steps}
    wanted: set[Pair] = set()
    for name in names:
        wanted |= catalog_pairs(catalog, name)
        if name in (EVERYTHING, COLLECTION + MODULE_WILDCARD):
            wanted |= steps
    return wanted
