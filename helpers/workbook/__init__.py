"""What a notebook calls: `start(globals())` gives its Section (`section`: which notebook runs
and which section of the registry it is, its checked parameters, paths, split, settings,
training through the cache, results and figures); parameter profiles (`profiles`), the
training cache (`cache`), results files and figures on disk (`results`), and how long each
executed notebook took (`timing`)."""

from helpers.workbook.section import MAKE, NAME, Section, start

__all__ = ["MAKE", "NAME", "Section", "start"]
