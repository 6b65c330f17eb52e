"""The compose form of a cohort message."""

from __future__ import annotations

from django import forms

from ops.forms import StrictInputForm

from .models import MESSAGE_BODY_MAX, MESSAGE_SUBJECT_MAX
from .services.messages import message_problems

DEFAULT_SUBJECT = "{cohort}: how is it going, {name}?"
DEFAULT_BODY = (
    "Hi {name},\n\n"
    "We noticed you might be falling behind in {cohort} ({pace}). Your next target is "
    "{next_target}, due {due_date}.\n\n"
    "If something is in the way, reply and tell us: we are glad to help.\n"
)


class MessageForm(StrictInputForm, forms.Form):
    learner = forms.TypedMultipleChoiceField(
        label="Members", coerce=int, widget=forms.CheckboxSelectMultiple
    )
    subject = forms.CharField(label="Subject", max_length=MESSAGE_SUBJECT_MAX)
    body = forms.CharField(
        label="Message", max_length=MESSAGE_BODY_MAX, widget=forms.Textarea(attrs={"rows": 10})
    )

    def __init__(self, *args, members=(), everyone: bool = False, **kwargs):
        """`everyone`: the message is for every member matching a dashboard filter (`members`,
        however many): no box per member, and nobody matching is an error."""
        super().__init__(*args, **kwargs)
        self.members = list(members)
        self.everyone = everyone
        if everyone:
            del self.fields["learner"]
            return
        self.fields["learner"].choices = [(row.user_id, row.name) for row in self.members]
        self.fields["learner"].error_messages["required"] = "Select at least one member."

    def clean(self):
        cleaned = super().clean()
        if self.everyone:
            cleaned["learner"] = [row.user_id for row in self.members]
            if not self.members:
                self.add_error(None, "Nobody matches this filter now: change it on the dashboard.")
        if "subject" in cleaned and "body" in cleaned:
            for field, problem in message_problems(
                subject=cleaned["subject"], body=cleaned["body"]
            ).items():
                self.add_error(field, problem)
        return cleaned
