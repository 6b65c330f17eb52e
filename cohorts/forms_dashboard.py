"""The member table's filter, sort and page, read from the query string (bookmarkable)."""

from __future__ import annotations

from django import forms

from ops.forms import StrictInputForm

from .pace import PaceStatus
from .selectors import AT_RISK, SORTS, MemberFilter

PACE_CHOICES = [
    ("", "Any pace"),
    (PaceStatus.AHEAD.value, "Ahead"),
    (PaceStatus.ON_PACE.value, "On pace"),
    (PaceStatus.BEHIND.value, "Behind"),
    (AT_RISK, "At risk"),
]


class MemberFilterForm(StrictInputForm, forms.Form):
    q = forms.CharField(label="Name contains", required=False, max_length=100)
    track = forms.TypedChoiceField(label="Track", required=False, coerce=int, empty_value=None)
    pace = forms.ChoiceField(label="Pace", required=False, choices=PACE_CHOICES)
    sort = forms.ChoiceField(label="Sort by", required=False)
    page = forms.IntegerField(
        required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput
    )

    def __init__(self, *args, tracks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["track"].choices = [("", "All tracks")] + [(t.id, t.title) for t in tracks]
        sorts = [(key, label) for key, label in SORTS.items()] + [
            (f"track-{t.id}", f"Progress in {t.title}") for t in tracks
        ]
        self.fields["sort"].choices = [
            choice
            for key, label in sorts
            for choice in ((key, f"{label}, ascending"), (f"-{key}", f"{label}, descending"))
        ]

    def member_filter(self) -> MemberFilter:
        """The valid state; a field with an error falls back to its default."""
        data = self.cleaned_data if self.is_bound else {}
        errors = self.errors if self.is_bound else {}

        def value(name, default):
            if name in errors:
                return default
            got = data.get(name)
            return default if got in (None, "") else got

        return MemberFilter(
            q=value("q", "").strip(),
            track=value("track", None),
            pace=value("pace", ""),
            sort=value("sort", "name"),
            page=value("page", 1),
        )
