"""One line of the benchmark table: a dataclass with keyword fields only.

Its field names are the keys of a row in build/bench/bench.json, in that order.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class Row:
    """What was measured (`what`, `median_s`) against what (`reference`, its median), the
    ratio of the two, and the target the ratio is judged against (`met`: None where the goal
    has no threshold or nothing was measured). The memory row holds GiB, not seconds."""

    goal: str
    what: str
    median_s: float | None
    reference: str = ""
    reference_median_s: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    def as_json(self) -> dict:
        return asdict(self)
