"""One line of the benchmark table: a dataclass with keyword fields only.

Its field names are the keys of a row in build/bench/bench.json, in that order.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class Row:
    """What was measured (`what`, `median_s`) against what (`reference`, its median), the
    ratio of the two, and the target the ratio is judged against (`met`: None where the goal
    has no threshold or nothing was measured). The memory row holds GiB, not seconds.
    ratio_spread: where the ratio was taken per repetition of the two sides timed next to
    each other (harness.spread: median, min, q1, q3, max, n), how far it ranged; `ratio` is
    then that median."""

    goal: str
    what: str
    median_s: float | None
    reference: str = ""
    reference_median_s: float | None = None
    ratio: float | None = None
    ratio_spread: dict | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    def as_json(self) -> dict:
        return asdict(self)
