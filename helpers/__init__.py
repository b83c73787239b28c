"""Importable helpers for the DD2424 Assignment 2 workbook."""
