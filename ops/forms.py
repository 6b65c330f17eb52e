"""Rules every form of Waymark applies to what people type, on top of each field's own.

    class NoteForm(StrictInputForm, forms.Form): ...

- no value may hold control characters (a line break or tab is fine in a multi-line box) or
  the invisible bidirectional overrides that make text display as something else (a display
  name on a public certificate, say); NUL is already refused by Django's fields;
- numbers and dates are written with the digits 0-9: "４" or "٣" is not quietly read as 4 or 3;
- no date is more than a century ahead or behind (forms with a tighter bound check their own);
- text with nothing visible in it (spaces, zero-width and other invisible format characters
  only) counts as empty: a required field says so, an optional one is saved empty.
Each problem is reported next to its field, so nothing is saved.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

from django import forms

FAR_FUTURE = timedelta(days=100 * 365)
FAR_PAST = FAR_FUTURE
# Letters that render as blank space (Hangul fillers, the blank Braille pattern): with spaces
# and the invisible format characters (category Cf: zero-width space, word joiner, BOM...)
# they make a name or a comment that looks empty.
BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
ALLOWED_IN_TEXTAREA = {"\t", "\n", "\r"}
# Bidirectional embeddings, overrides and isolates: they reorder how text is displayed.
BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
NUMERIC_FIELDS = (
    forms.IntegerField,
    forms.DecimalField,
    forms.FloatField,
    forms.DateField,
    forms.TimeField,
    forms.DateTimeField,
)


def text_problem(value: str, *, multiline: bool) -> str | None:
    for char in value:
        if char == "\x00":
            continue  # Django's own validator names it ("Null characters are not allowed.")
        if multiline and char in ALLOWED_IN_TEXTAREA:
            continue
        if unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS:
            return (
                f"Remove the invisible control character U+{ord(char):04X}: "
                "this field takes plain text only."
            )
    return None


def has_visible_text(value: str) -> bool:
    return any(
        not (char.isspace() or char in BLANK_LETTERS or unicodedata.category(char) == "Cf")
        for char in value
    )


def digits_problem(value: str) -> str | None:
    if any(char.isdigit() and not ("0" <= char <= "9") for char in value):
        return "Use the digits 0 to 9 (not full-width or other scripts' digits)."
    return None


def _raw_values(bound_field) -> list[str]:
    data = bound_field.data
    values = data if isinstance(data, list | tuple) else [data]
    return [value for value in values if isinstance(value, str)]


class StrictInputForm:
    """Mix into any Form or ModelForm (first among the bases)."""

    def _clean_fields(self) -> None:
        # Before the form's own clean(), which may combine fields: invisible-only text is empty.
        super()._clean_fields()
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if not isinstance(value, str) or not value or has_visible_text(value):
                continue
            if isinstance(field.widget, forms.PasswordInput):
                continue  # a secret is whatever its owner typed
            if field.required:
                del self.cleaned_data[name]
                self.add_error(name, "This field has only invisible characters: write some text.")
            else:
                self.cleaned_data[name] = ""

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound:
            return
        for name, field in self.fields.items():
            if name in self._errors or field.disabled:
                continue
            problem = self._input_problem(field, self[name])
            if problem:
                self.add_error(name, problem)

    def _input_problem(self, field, bound_field) -> str | None:
        if isinstance(field.widget, forms.PasswordInput):
            return None  # a secret is whatever its owner typed
        multiline = isinstance(field.widget, forms.Textarea)
        for value in _raw_values(bound_field):
            if isinstance(field, NUMERIC_FIELDS) and (problem := digits_problem(value)):
                return problem
            if problem := text_problem(value, multiline=multiline):
                return problem
        cleaned = getattr(self, "cleaned_data", {}).get(bound_field.name)
        if isinstance(cleaned, datetime):
            cleaned = cleaned.date()
        if isinstance(cleaned, date) and cleaned > date.today() + FAR_FUTURE:
            return f"That date is too far ahead: pick one before {date.today().year + 100}."
        if isinstance(cleaned, date) and cleaned < date.today() - FAR_PAST:
            return f"That date is too far back: pick one after {date.today().year - 100}."
        return None
