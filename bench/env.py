"""What every scenario of one bench run shares: the counts (full or quick) and the receiver."""

from __future__ import annotations

from dataclasses import dataclass

from bench.procs import Receiver


@dataclass
class Env:
    quick: bool
    receiver: Receiver

    def pick(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def seconds(self, full: float, quick: float) -> float:
        return quick if self.quick else full
