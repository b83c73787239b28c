"""What a notebook calls: `start(globals())` gives its Section (`section`: which notebook runs
and which section of the registry it is, its checked parameters, paths, split, settings,
training through the cache, results and figures); parameter profiles (`profiles`), the
training cache (`cache`), results files and figures on disk (`results`), and how long each
executed notebook took (`timing`).

`start`, `Section`, `NAME` and `MAKE` are loaded from `section` on first use, so that
`python -m helpers.workbook.profiles` (make's parameter check) imports nothing else first.
"""

__all__ = ["MAKE", "NAME", "Section", "start"]


def __getattr__(name: str):
    if name in __all__:
        from helpers.workbook import section

        return getattr(section, name)
    raise AttributeError(f"module 'helpers.workbook' has no attribute {name!r}")
