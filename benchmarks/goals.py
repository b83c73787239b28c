"""The goals: the names of the table's groups of rows and the targets each row is judged
against. A target is a bound on the row's ratio; `Target.judge` gives a row its `target`
and `met` fields.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass

# The groups of rows, in the table's order: goals 1 to 6 of the issues, and the engines
# (torch, one BLAS thread) beside them with no target. Goal 6: the report's steps as it runs
# them, jobs on one BLAS thread each (issue 20).
STEP, SEARCH, ENGINE, REPORT, MEMORY, BONUS, JOBS = ("1 step", "2 search", "engine", "3 report",
                                                     "4 memory", "5 bonus", "6 jobs")
GOALS = (STEP, SEARCH, ENGINE, REPORT, MEMORY, BONUS, JOBS)

REPORT_BUDGET_S = 1200.0  # the whole report with the range test and the bonus (issue 9)
MEMORY_GIB = 3.0  # peak resident memory of the 100-network search and its data


@dataclass(frozen=True)
class Target:
    """`passes(ratio, bound)` meets the target; `text` is how the table says it."""

    text: str
    passes: Callable[[float, float], bool]
    bound: float

    def judge(self, ratio: float) -> dict:
        """The row fields `target` and `met` of a row with this ratio."""
        return {"target": self.text, "met": bool(self.passes(ratio, self.bound))}


# ratio: our step / the PyTorch user's step, and / its matrix products alone
STEP_VS_PYTORCH = Target("<= 1.2", operator.le, 1.2)
STEP_VS_PRODUCTS = Target("<= 2", operator.le, 2.0)
# ratio: the products' time / our step's (the fraction of the GEMM rate reached)
GEMM_RATE = Target(">= 0.70 of the GEMM rate", operator.ge, 0.7)
# ratio: N sequential PyTorch-user steps / our N networks side by side
TIMES_FASTER = Target(">= 2 times faster", operator.ge, 2.0)
# ratio: the report's seconds / the budget, and the peak memory / its bound
WITHIN_BUDGET = Target(f"< {REPORT_BUDGET_S:.0f} s", operator.lt, 1.0)
# ratio: the jobs on one worker / on two (issue 28: the report's jobs use a second core)
TWO_CORES = Target(">= 1.8 times on two workers", operator.ge, 1.8)
WITHIN_MEMORY = Target(f"< {MEMORY_GIB:.0f} GiB", operator.lt, 1.0)
