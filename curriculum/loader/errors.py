"""Errors found while loading curriculum files, formatted `PATH:LINE:COLUMN: message`.

A message names the place in the lead's words (`module 2 (`intro`), resource 3 (`video`):`,
places counted from 1, slugs when the item has one) and says what to change. The browser
editor shows the same problem next to a form field: each error also carries the value's path
in the data (`track.modules[1].resources[2].title`, how the editor finds the field; never
shown) and the problem in a form's words (no keys, no places).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class LoadError:
    path: str
    line: int  # 1-based
    column: int  # 1-based
    message: str
    # The value's place in the data ("" for a problem with the file itself).
    field: str = dataclasses.field(default="", compare=False)
    # The same problem as a form shows it beside that field.
    form: str = dataclasses.field(default="", compare=False)
    # The item it is in, as the message names it ("module 2 (`intro`)"; "" for the file).
    item: str = dataclasses.field(default="", compare=False)
    # What kind of problem, where the editor treats one differently ("duplicate-slug").
    code: str = dataclasses.field(default="", compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class Where:
    """A place in a track's file. `path` is the data path (`track.modules[1].title`); `item`
    names the item as messages do ("module 2 (`intro`), resource 3 (`video`)", "track
    (`pets`)"); `subject` names the value in it ("`title`", "entry 2 of `requires`",
    "`pick` under `choose`"), empty when the message is about the item itself."""

    path: str = ""
    item: str = ""
    subject: str = ""

    def key(self, name: str) -> Where:
        subject = f"`{name}` under {self.subject}" if self.subject else f"`{name}`"
        return Where(f"{self.path}.{name}" if self.path else name, self.item, subject)

    def entry(self, index: int) -> Where:
        return Where(f"{self.path}[{index}]", self.item, f"entry {index + 1} of {self.subject}")

    def child(self, noun: str, plural: str, index: int, slug: str = "") -> Where:
        """The `index`th (from 0) module, resource or capstone under this place."""
        named = f"{noun} {index + 1}" + (f" (`{slug}`)" if slug else "")
        inside = self.path != "track" and self.item  # a module's items say their module
        return Where(f"{self.path}.{plural}[{index}]", f"{self.item}, {named}" if inside else named)

    def says(self, sentence: str) -> str:
        """`sentence` (about this place) as the message's text."""
        return f"{self.item}: {sentence}" if self.item else sentence

    def about(self, rest: str) -> str:
        """A sentence whose subject is this place's value: "`title` must not be empty"."""
        return f"{self.subject} {rest}" if self.subject else rest


class CurriculumInvalid(Exception):
    """One or more files are invalid; nothing was written. `.errors` are formatted lines,
    sorted by path, line and column."""

    def __init__(self, errors: list[LoadError]):
        self.load_errors = sorted(errors)
        self.errors = [str(error) for error in self.load_errors]
        super().__init__("\n".join(self.errors))
