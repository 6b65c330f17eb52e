"""The learner's capstone submission form and the staff review form (admin).

Rules live in `tracker.services.capstones`; these forms only shape input and place the
services' messages next to the right field."""

from __future__ import annotations

from django import forms

from curriculum.models import Capstone
from ops.forms import StrictInputForm

from .models import CapstoneSubmission, SubmissionStatus
from .services.capstones import LINK_MAX, LINK_OR_WRITEUP, TITLE_MAX, WRITEUP_MAX


class CapstoneSubmissionForm(StrictInputForm, forms.Form):
    SAVE = "save"
    SUBMIT = "submit"

    title = forms.CharField(max_length=TITLE_MAX, required=False)
    link = forms.CharField(
        max_length=LINK_MAX,
        required=False,
        help_text="Repository, notebook or demo: an http:// or https:// address.",
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "url"}),
    )
    writeup = forms.CharField(
        label="Write-up",
        max_length=WRITEUP_MAX,
        required=False,
        help_text="Markdown. What you built, how, and what you learned.",
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    # Each box posts the constraint's wording, so a tick always means the text the learner saw.
    constraints_met = forms.MultipleChoiceField(
        label="Constraints met",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": (
                "“%(value)s” is no longer one of this capstone's constraints (the track was "
                "updated); check the list again and tick what your work meets."
            )
        },
    )
    # Set by the button pressed; Enter in a text box presses the first one, "Save draft".
    action = forms.ChoiceField(
        required=False,
        choices=[(SAVE, "Save draft"), (SUBMIT, "Submit for review")],
        widget=forms.HiddenInput,
    )

    def __init__(
        self, *args, capstone: Capstone, submission: CapstoneSubmission | None = None, **kwargs
    ):
        if submission is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": submission.title,
                "link": submission.link,
                "writeup": submission.writeup,
                "constraints_met": list(submission.constraints_met),
            }
        super().__init__(*args, **kwargs)
        self.fields["constraints_met"].choices = [
            (text, text) for text in dict.fromkeys(capstone.constraints or [])
        ]
        # "A link or a write-up": shown once above the two fields, and both point at it.
        self.link_or_writeup_errors: list[str] = []

    @property
    def submitting(self) -> bool:
        return self.cleaned_data.get("action") == self.SUBMIT

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "link": data["link"],
            "writeup": data["writeup"],
            "constraints_met": data["constraints_met"],
        }

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            if field == LINK_OR_WRITEUP:
                self.link_or_writeup_errors += messages
                continue
            for message in messages:
                self.add_error(field if field in self.fields else None, message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.link_or_writeup_errors)

    def ticked(self) -> set[str]:
        """The constraint texts to show ticked: what was posted, else what was saved. A saved
        tick whose wording has since changed matches nothing, so it shows unticked."""
        return {str(text) for text in self["constraints_met"].value() or []}


REVIEW_COMMENTS_MAX = 20_000


class CapstoneReviewForm(StrictInputForm, forms.ModelForm):
    """Admin change form for a submission: every model field is read-only; staff choose a
    decision and write comments, and the admin hands them to `services.capstone_review`."""

    decision = forms.ChoiceField(
        required=False,
        choices=[
            ("", "No decision (leave as is)"),
            (SubmissionStatus.PASSED, "Pass"),
            (SubmissionStatus.CHANGES_REQUESTED, "Request changes"),
        ],
        help_text=(
            "Only a submitted submission can be reviewed. "
            "Passing awards the capstone's points once."
        ),
    )
    review_comments = forms.CharField(
        required=False,
        max_length=REVIEW_COMMENTS_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=(
            "Markdown, shown to the learner and emailed to them. Required when requesting changes."
        ),
    )
    reviewer = None  # set per request by the admin (see CapstoneSubmissionAdmin.get_form)

    class Meta:
        model = CapstoneSubmission
        fields: list[str] = []

    def clean(self):
        from . import services

        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision:
            try:
                services.capstone_review_check(
                    reviewer=self.reviewer,
                    submission=self.instance,
                    decision=decision,
                    comments=cleaned.get("review_comments", ""),
                )
            except services.ServiceError as exc:
                # "Comments are required when requesting changes" belongs next to the comments.
                comments_missing = (
                    decision == SubmissionStatus.CHANGES_REQUESTED
                    and not cleaned.get("review_comments", "").strip()
                )
                self.add_error("review_comments" if comments_missing else None, str(exc))
        return cleaned
