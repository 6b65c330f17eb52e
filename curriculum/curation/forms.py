"""The editing forms. They only carry what people type: every rule about the values is the
loader's (curriculum.loader.schema), applied when the service validates the edited track, and
its messages come back next to these fields. What a form checks itself is what no file could
hold: control characters, and (for uploads) the size before reading."""

from __future__ import annotations

from django import forms

from ops.forms import StrictInputForm

from ..loader.schema import MARKDOWN_MAX
from ..loader.values import SLUG_MAX
from ..models import Level, ResourceKind, ReviewMode
from .data import choose_text


class CurationForm(StrictInputForm, forms.Form):
    """Control characters and bidi overrides are refused next to the field (StrictInputForm);
    every other rule is the loader's. Each field with errors points at them
    (`aria-describedby`), so a screen reader reads the message with the field."""

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                bound = self[name]
                ids = [f"{bound.auto_id}-errors"]
                if self.fields[name].help_text:
                    ids.append(f"{bound.auto_id}_helptext")
                self.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)


def _text(label: str, *, help_text: str = "", max_length: int | None = None, required=False):
    attrs = {"maxlength": max_length} if max_length else {}
    return forms.CharField(
        label=label,
        required=False,  # the loader says what is required, in its own words
        strip=False,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
    )


def _markdown(label: str, *, help_text: str = "Markdown.", rows: int = 5):
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": MARKDOWN_MAX}),
    )


def _number(label: str, help_text: str = ""):
    # Text, not a number field: the loader reads it as the file would and says what it wants.
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 6}),
    )


def _choice(label: str, choices, help_text: str = ""):
    # Any value is carried to the loader, which names the ones it knows.
    return forms.CharField(
        label=label, required=False, help_text=help_text, widget=forms.Select(choices=choices)
    )


def _checks(label: str, choices, help_text: str = ""):
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        choices=choices,
        help_text=help_text,
        widget=forms.CheckboxSelectMultiple,
    )


_FILLED_IN_LABEL = "Not in the track's source (chosen to fill a gap it leaves; tagged so)"


class TrackForm(CurationForm):
    title = _text("Title", max_length=200)
    source_title = _text(
        "Source: title",
        max_length=300,
        help_text="The write-up, course or post this track follows, if any. Items it does not "
        "name can then be tagged “not in the source”.",
    )
    source_author = _text("Source: author", max_length=200)
    # No maxlength: "29 January 2018" was cut to ten characters as it was typed. The loader
    # reads the value (YYYY-MM-DD only) and says what to write, with what was typed kept.
    source_published = _text(
        "Source: published",
        help_text="The day it came out, written YYYY-MM-DD: 29 January 2018 is 2018-01-29. "
        "A year or a month alone is not accepted; leave it empty if you do not know the day.",
    )
    source_url = _text("Source: link (URL)", max_length=1000)
    summary = _markdown("Summary")
    prerequisites = _markdown(
        "Prerequisites", help_text="Markdown: what learners should know or have before starting."
    )
    level = _choice("Level", Level.choices)
    tags = _text("Tags", help_text="Separated by commas.")
    requires = _checks("Tracks to finish first", [])

    def __init__(self, *args, tracks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requires"].choices = list(tracks)

    def clean(self):
        """The four source fields as the file's one `source:` mapping (the loader checks it;
        what it says about `source` lands next to the source's title)."""
        cleaned = super().clean()
        cleaned["source"] = {
            name: cleaned.get(f"source_{name}", "").strip()
            for name in ("title", "author", "published", "url")
        }
        return cleaned

    # What the loader says about `source` as a whole (not key: value lines, say): by its title.
    error_fields = {"source": "source_title"}

    @staticmethod
    def initial_from(data: dict) -> dict:
        source = data.get("source", {})
        return {
            "title": data.get("title", ""),
            **{f"source_{name}": source.get(name, "") for name in ("title", "author", "url")},
            "source_published": str(source.get("published", "")),
            "summary": data.get("summary", ""),
            "prerequisites": data.get("prerequisites", ""),
            "level": data.get("level", Level.BEGINNER),
            "tags": ", ".join(data.get("tags", [])),
            "requires": data.get("requires", []),
        }


class _SlugMixin:
    slug_help = (
        "Lowercase letters, digits and hyphens. It identifies the item for good. Leave it "
        "empty to make one from the title."
    )


class ModuleForm(CurationForm):
    slug = _text("Slug", max_length=SLUG_MAX, help_text=_SlugMixin.slug_help)
    title = _text("Title", max_length=200)
    summary = _markdown("Summary")
    weeks = _number("Weeks", "Pacing hint: how many weeks it takes (default 1).")
    days = _number("Days", "For modules shorter than a week: days instead of weeks.")
    requires = _checks("Modules to finish first", [])
    choose = _text(
        "Choice groups: how many to finish",
        help_text="For example deep-dive: 2. A group left out asks for one.",
    )

    def __init__(self, *args, modules=(), adding=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requires"].choices = list(modules)
        if not adding:
            del self.fields["slug"]

    @staticmethod
    def initial_from(data: dict) -> dict:
        return {
            "title": data.get("title", ""),
            "summary": data.get("summary", ""),
            "weeks": data.get("weeks", "" if "days" in data else 1),
            "days": data.get("days", ""),
            "requires": data.get("requires", []),
            "choose": choose_text(data.get("choose", {})),
        }


class ResourceForm(CurationForm):
    slug = _text("Slug", max_length=SLUG_MAX, help_text=_SlugMixin.slug_help)
    module = _choice("Module", [])
    title = _text("Title", max_length=300)
    kind = _choice("Kind", ResourceKind.choices)
    track = _choice(
        "Track it stands for", [], "Only for kind Track: finishing that track makes it done."
    )
    url = _text("Link (URL)", max_length=1000)
    minutes = _number("Minutes", "Your estimate of the time it takes.")
    points = _number("Points", "Leave empty: its minutes, or a default by kind.")
    optional = forms.BooleanField(label="Optional (never blocks completion)", required=False)
    filled_in = forms.BooleanField(label=_FILLED_IN_LABEL, required=False)
    choice = _text(
        "Choice group",
        max_length=SLUG_MAX,
        help_text="Resources of a module sharing a group name are alternatives.",
    )
    notes = _markdown("Notes")

    def __init__(self, *args, modules=(), tracks=(), adding=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["module"].widget.choices = list(modules)
        self.fields["track"].widget.choices = [("", "(none)"), *tracks]
        if not adding:
            del self.fields["slug"]

    @staticmethod
    def initial_from(data: dict, module: str) -> dict:
        return {
            "module": module,
            "title": data.get("title", ""),
            "kind": data.get("kind", ""),
            "track": data.get("track", ""),
            "url": data.get("url", ""),
            "minutes": data.get("minutes", ""),
            "points": data.get("points", ""),
            "optional": data.get("optional", False),
            "filled_in": data.get("filled_in", False),
            "choice": data.get("choice", ""),
            "notes": data.get("notes", ""),
        }


class CapstoneForm(CurationForm):
    slug = _text("Slug", max_length=SLUG_MAX, help_text=_SlugMixin.slug_help)
    module = _choice("Module", [])
    title = _text("Title", max_length=300)
    brief = _markdown("Brief", rows=8)
    constraints = forms.CharField(
        label="Constraints",
        required=False,
        help_text="One a line: what the work must meet.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    minutes = _number(
        "Minutes",
        "Your estimate of the work. Learners' time left and pace plans count it until they "
        "pass; left empty, it is listed there as work without an estimate.",
    )
    points = _number("Points", "Default 100.")
    review = _choice("Reviewed by", ReviewMode.choices)
    team = forms.BooleanField(
        label="Team capstone (one passed submission counts for every teammate in a cohort team)",
        required=False,
    )
    optional = forms.BooleanField(label="Optional (never blocks completion)", required=False)
    filled_in = forms.BooleanField(label=_FILLED_IN_LABEL, required=False)

    def __init__(self, *args, modules=(), adding=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["module"].widget.choices = list(modules)
        if not adding:
            del self.fields["slug"]

    @staticmethod
    def initial_from(data: dict, module: str) -> dict:
        return {
            "module": module,
            "title": data.get("title", ""),
            "brief": data.get("brief", ""),
            "constraints": "\n".join(data.get("constraints", [])),
            "minutes": data.get("minutes", ""),
            "points": data.get("points", ""),
            "review": data.get("review", ReviewMode.LEAD),
            "team": data.get("team", False),
            "optional": data.get("optional", False),
            "filled_in": data.get("filled_in", False),
        }


FORMS = {"modules": ModuleForm, "resources": ResourceForm, "capstones": CapstoneForm}


class UploadForm(CurationForm):
    file = forms.FileField(
        label="YAML file of the track",
        help_text="The track's file as in seeds/ (at most 1 MB). Nothing changes until you "
        "check the preview and apply it.",
        allow_empty_file=True,
        error_messages={"required": "Choose a .yaml file to upload."},
    )
