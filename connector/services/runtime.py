"""The objects every use case works with, built once per process by whoever hosts the service."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from connector.catalog import Catalog
from connector.config import Settings
from connector.storage import Database
from connector.storage.ingest_write import IngestWriter


class Wakeable(Protocol):
    def wake(self) -> None: ...


@dataclass
class Runtime:
    """Settings, database and catalog, and the in-process delivery worker if this process runs one."""

    settings: Settings
    database: Database
    catalog: Catalog
    worker: Wakeable | None = None

    @cached_property
    def ingest_writer(self) -> IngestWriter:
        """The ingest's write, its statements compiled once for this database."""
        return IngestWriter(self.database.engine)

    def work_due(self) -> None:
        """An event to fan out or a delivery is due now: wake the in-process worker instead of
        waiting for its poll."""
        if self.worker is not None:
            self.worker.wake()
