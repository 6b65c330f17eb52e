"""Errors found while loading curriculum files, formatted `PATH:LINE:COLUMN: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class LoadError:
    path: str
    line: int  # 1-based
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class CurriculumInvalid(Exception):
    """One or more files are invalid; nothing was written. `.errors` are formatted lines,
    sorted by path, line and column."""

    def __init__(self, errors: list[LoadError]):
        self.load_errors = sorted(errors)
        self.errors = [str(error) for error in self.load_errors]
        super().__init__("\n".join(self.errors))
