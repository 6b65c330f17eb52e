"""The forms of the cohort pages. They carry what people type; the rules about the values
(reserved slugs, dates in order, phases inside the cohort, one team per member...) are the
services', whose messages come back next to these fields (`add_service_errors`)."""

from __future__ import annotations

from django import forms

from curriculum.models import Track
from ops.forms import StrictInputForm

from .models import NAME_MAX, TARGET_WEEK_MAX, Cohort, Team
from .services import DESCRIPTION_MAX, INVITE_MAX_USES

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
INVITE_MAX_DAYS = 365


class CohortBaseForm(StrictInputForm, forms.Form):
    """Each field with errors points at them (`aria-describedby`), so a screen reader reads the
    message with the field; service refusals land on the field they name."""

    # The service's name for a field → the form's, where they differ.
    service_fields: dict[str, str] = {}

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                bound = self[name]
                ids = [f"{bound.auto_id}-errors"]
                if self.fields[name].help_text:
                    ids.append(f"{bound.auto_id}_helptext")
                self.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)
                self.fields[name].widget.attrs["aria-invalid"] = "true"

    def add_service_errors(self, errors: dict[str | None, list[str]]) -> None:
        for field, messages in errors.items():
            name = self.service_fields.get(field, field)
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class TrackChoices(forms.ModelMultipleChoiceField):
    """Tracks by id: only the digits 0-9 name one (Python reads "１２" as 12), and no id longer
    than the database's integers is looked up (SQLite raised OverflowError on one)."""

    def clean(self, value):
        for raw in value or []:
            text = str(raw)
            if not (text.isascii() and text.isdigit() and len(text) <= 18):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice"
                )
        return super().clean(value)


class CohortDetailsForm(CohortBaseForm):
    service_fields = {"track_ids": "tracks"}

    name = forms.CharField(label="Name", max_length=NAME_MAX)
    slug = forms.CharField(
        label="Web address (slug)",
        max_length=Cohort._meta.get_field("slug").max_length,
        help_text="Lowercase letters, digits and hyphens: the cohort's pages live at "
        "/cohorts/<slug>/ (for example spring-2026).",
    )
    description = forms.CharField(
        label="Description (optional)",
        required=False,
        max_length=DESCRIPTION_MAX,
        help_text="Markdown. Members see it on the cohort's page and the invite page.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    starts_on = forms.DateField(label="Starts on", widget=DATE_INPUT)
    ends_on = forms.DateField(label="Ends on", widget=DATE_INPUT)
    tracks = TrackChoices(
        label="Tracks",
        queryset=Track.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Members are enrolled in each of them when they join.",
        error_messages={
            "required": "Choose at least one track.",
            "invalid_choice": "Choose tracks from the list.",
            "invalid_pk_value": "Choose tracks from the list.",
        },
    )

    def __init__(self, *args, cohort: Cohort | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Active tracks, and the ones the cohort already has even if archived since.
        tracks = Track.objects.active()
        if cohort is not None:
            tracks = tracks | Track.objects.filter(cohort_links__cohort=cohort)
        self.fields["tracks"].queryset = tracks.distinct().order_by("title")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "slug": data["slug"],
            "description": data["description"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "track_ids": [track.pk for track in data["tracks"]],
        }


class PhaseForm(CohortBaseForm):
    name = forms.CharField(label="Phase name", max_length=NAME_MAX)
    starts_on = forms.DateField(label="Starts on", widget=DATE_INPUT)
    ends_on = forms.DateField(label="Ends on", widget=DATE_INPUT)


class _PhaseFormSet(forms.BaseFormSet):
    def clean(self):
        # A count below zero (a page not made by this site) read as "no rows": every phase gone.
        if self.is_bound and self.management_form.cleaned_data.get("TOTAL_FORMS", 0) < 0:
            raise forms.ValidationError("The phases could not be read: reload the page.")
        super().clean()

    def phase_rows(self) -> list[tuple[int, PhaseForm]]:
        """(index in the formset, form) of the rows to keep: filled in and not ticked for removal."""
        return [
            (index, form)
            for index, form in enumerate(self.forms)
            if form.has_changed() and not self._should_delete_form(form)
        ]


PhaseFormSet = forms.formset_factory(
    PhaseForm, formset=_PhaseFormSet, extra=1, can_delete=True, max_num=20, validate_max=True
)


class PacePlanForm(CohortBaseForm):
    """One target week per module of the cohort's tracks (`target_<module id>`)."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        week = f"Give a cohort week from 1 to {TARGET_WEEK_MAX} (week 1 starts on its first day)."
        for row in rows:
            self.fields[f"target_{row.module.pk}"] = forms.IntegerField(
                label=f"Target week for {row.module.title}",
                min_value=1,
                max_value=TARGET_WEEK_MAX,
                initial=row.target_week,
                widget=forms.NumberInput(attrs={"class": "week-input", "inputmode": "numeric"}),
                error_messages=dict.fromkeys(
                    ("required", "invalid", "min_value", "max_value"), week
                ),
            )
        self.rows = rows

    def bound_rows(self):
        return [(row, self[f"target_{row.module.pk}"]) for row in self.rows]

    @property
    def rows_after_end(self) -> int:
        return sum(1 for row in self.rows if row.after_end)

    def target_weeks(self) -> dict[int, int]:
        return {row.module.pk: self.cleaned_data[f"target_{row.module.pk}"] for row in self.rows}

    def add_service_errors(self, errors):
        renamed = {}
        for field, messages in errors.items():
            if field and field.startswith("target."):
                field = "target_" + field.removeprefix("target.")
            renamed[field] = messages
        super().add_service_errors(renamed)


class InviteForm(CohortBaseForm):
    expires_in_days = forms.IntegerField(
        label="Expires after (days, optional)",
        required=False,
        min_value=1,
        max_value=INVITE_MAX_DAYS,
        help_text=f"From 1 to {INVITE_MAX_DAYS}. Leave empty for an invite that does not expire.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    max_uses = forms.IntegerField(
        label="Maximum uses (optional)",
        required=False,
        min_value=1,
        max_value=INVITE_MAX_USES,
        help_text="How many people may join with it. Leave empty for no limit.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class AdminAddForm(CohortBaseForm):
    email = forms.CharField(
        label="Email address",
        max_length=254,
        help_text="The address of an account that has confirmed it.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class TeamForm(CohortBaseForm):
    name = forms.CharField(label="Team name", max_length=NAME_MAX)
    project_title = forms.CharField(
        label="Project title (optional)",
        required=False,
        max_length=Team._meta.get_field("project_title").max_length,
    )
    project_link = forms.URLField(
        label="Project link (optional)",
        required=False,
        max_length=Team._meta.get_field("project_link").max_length,
        assume_scheme="https",
        help_text="A repository or demo: a full address starting with https:// or http://",
    )


class TeamMemberForm(CohortBaseForm):
    user = forms.TypedChoiceField(label="Member", coerce=int)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Choose a member"), *choices]


class CohortArchiveForm(CohortBaseForm):
    confirm = forms.BooleanField(
        error_messages={"required": "Tick the box to confirm that the cohort is over."}
    )

    def __init__(self, *args, cohort: Cohort, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = f"Yes, {cohort.name} is over: archive it."


class JoinCodeForm(CohortBaseForm):
    code = forms.CharField(
        label="Invite code",
        max_length=40,
        help_text="The code from your invite, for example K7QM-2XPA-9RTW.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
