"""The README's "beyond the assignment" numbers, rebuilt from the assignment profile's run of
the range test and the bonus (python -m helpers.readme rewrites them with the results table)."""

import json
from pathlib import Path

BEGIN, END = "<!-- beyond:begin -->", "<!-- beyond:end -->"
PROFILE = "assignment"


def text(build: Path) -> str:
    """Markdown: the range test's range and comparison, then the bonus's ablation table."""
    from helpers import bonus, listings, sections  # loaded only when there are markers

    folder = build / PROFILE / "results"
    notebook = {s["key"]: s["notebook"] for s in sections.load()["sections"]}
    paths = [folder / f"{notebook[key]}.json" for key in ("range", "final", "bonus")]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}: run make report")
    rng, final, extra = (json.loads(p.read_text()) for p in paths)
    c, comparison = rng["chosen"], listings.range_comparison_of(final, rng)
    return "\n".join([
        f"Range test (`{PROFILE}` profile, m = {rng['parameters']['m']}): eta_max = "
        f"{c['eta_max']:.3g}, eta_min = {c['eta_min']:.3g}; on the best-lambda run:", "",
        "```", comparison, "```", "", f"The bonus's ablation (`{PROFILE}` profile):", "",
        bonus.table(extra["rows"]), "", "```", bonus.summary(extra), "```"])


def regenerate(readme: str, build: Path) -> str:
    """`readme` with the text between BEGIN and END rebuilt; unchanged when it has no markers."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        return readme
    return f"{readme[: start + len(BEGIN)]}\n{text(build)}\n{readme[end:]}"
