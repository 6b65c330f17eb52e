"""Private notes and "revisit later": sanitized Markdown, the inline HTMX edit, the no-JS
flow, and /me/revisit/."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.accessible_names import control_names, shared_names
from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory, enrol
from tracker import services
from tracker.models import ResourceNote

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def resource():
    track = TrackFactory(slug="nlp", title="NLP")
    return ResourceFactory(
        module=ModuleFactory(track=track), slug="attention", title="Attention paper"
    )


@pytest.fixture
def learner(client, resource):
    user = UserFactory()
    services.enrolment_join(learner=user, track=resource.track)
    client.force_login(user)
    return user


NOTE_URL = "/tracks/nlp/items/attention/note"
REVISIT_URL = "/tracks/nlp/items/attention/revisit"


@pytest.mark.parametrize(
    "payload, forbidden",
    [
        ("<script>alert(1)</script> hello", ["<script", "alert(1)</script>"]),
        ("<img src=x onerror=alert(1)>", ["onerror"]),
        ("[x](javascript:alert(1))", ["javascript:"]),
        ('<a hx-post="/tracks/nlp/leave" hx-trigger="load">x</a>', ["hx-post", "hx-trigger"]),
    ],
)
def test_note_save_renders_markdown_and_makes_payloads_inert(user, resource, payload, forbidden):
    enrol(user, resource.track)
    note = services.note_save(learner=user, resource=resource, body=f"**Key idea**\n\n{payload}")
    assert note.body.endswith(payload)  # what the learner wrote is kept as written
    assert "<strong>Key idea</strong>" in note.body_html
    for bad in forbidden:
        assert bad not in note.body_html


def test_note_save_updates_one_row_and_keeps_the_revisit_flag(user, resource):
    enrol(user, resource.track)
    services.note_set_revisit(learner=user, resource=resource, revisit=True)
    services.note_save(learner=user, resource=resource, body="first")
    note = services.note_save(learner=user, resource=resource, body="")
    assert ResourceNote.objects.filter(learner=user).count() == 1
    assert note.body == "" and note.body_html == "" and note.revisit


def test_note_save_refuses_more_than_the_maximum_length(user, resource):
    enrol(user, resource.track)
    with pytest.raises(services.ServiceError, match="at most 20,000 characters"):
        services.note_save(learner=user, resource=resource, body="x" * 20_001)
    assert not ResourceNote.objects.exists()


def test_htmx_inline_edit_flow(client, learner):
    form = client.get(NOTE_URL, **HX).content.decode()
    assert form.lstrip().startswith('<form id="note_attention"')
    assert 'hx-post="/tracks/nlp/items/attention/note"' in form and "data-autofocus" in form
    assert "<html" not in form

    saved = client.post(
        NOTE_URL, {"body": "Read *twice*.\n\n<script>window.__pwned=1</script>"}, **HX
    )
    body = saved.content.decode()
    assert body.lstrip().startswith('<div id="note_attention" class="learner-note">')
    assert "<em>twice</em>" in body and "<script" not in body and "Edit note" in body

    page = client.get("/tracks/nlp/").content.decode()
    assert "<em>twice</em>" in page and "__pwned" not in page

    again = client.get(NOTE_URL, **HX).content.decode()
    assert "Read *twice*." in again  # the editor shows the Markdown source

    cancel = client.get(NOTE_URL + "?show=1", **HX).content.decode()
    assert cancel.lstrip().startswith('<div id="note_attention"') and "<em>twice</em>" in cancel


def test_open_note_editors_name_the_resource_they_save_or_cancel(client, learner, resource):
    """With several editors open, a screen reader's list of buttons and links tells each
    "Save note" and "Cancel" apart by the resource."""
    ResourceFactory(module=resource.module, slug="bleu", title="BLEU score")
    editors = "".join(
        client.get(f"/tracks/nlp/items/{slug}/note", **HX).content.decode()
        for slug in ("attention", "bleu")
    )
    names = [name for name, _ in control_names(editors)]
    assert "Save note on Attention paper" in names and "Save note on BLEU score" in names
    assert "Cancel editing the note on Attention paper" in names
    assert "Cancel editing the note on BLEU score" in names
    assert shared_names(editors) == {}
    # The page without JavaScript names them too.
    page = [name for name, _ in control_names(client.get(NOTE_URL).content.decode())]
    assert "Save note on Attention paper" in page
    assert "Cancel editing the note on Attention paper" in page


def test_htmx_note_too_long_shows_the_form_error_next_to_the_field(client, learner):
    body = client.post(NOTE_URL, {"body": "x" * 20_001}, **HX).content.decode()
    assert 'aria-invalid="true"' in body and "at most 20000 characters" in body
    assert not ResourceNote.objects.exists()


def test_note_without_javascript_has_its_own_page_and_redirects_back(client, learner):
    page = client.get(NOTE_URL)
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and "Your note on Attention paper" in html
    assert "hx-post" not in html.split('id="note_attention"')[1].split("</form>")[0]
    response = client.post(NOTE_URL, {"body": "Plain *form*"})
    assert response.status_code == 302 and response["Location"] == "/tracks/nlp/#resource-attention"
    assert ResourceNote.objects.get(learner=learner).body_html == "<p>Plain <em>form</em></p>"
    too_long = client.post(NOTE_URL, {"body": "y" * 20_001})
    assert too_long.status_code == 200 and "at most 20000 characters" in too_long.content.decode()


def test_notes_need_a_login_and_an_active_resource(client, resource):
    assert client.get(NOTE_URL)["Location"].startswith("/accounts/login/")
    client.force_login(UserFactory())
    resource.archived_at = timezone.now()
    resource.save()
    assert client.get(NOTE_URL).status_code == 404
    assert client.post(REVISIT_URL, {"revisit": "1"}).status_code == 404


def test_notes_are_private(client, learner, resource):
    services.note_save(learner=learner, resource=resource, body="my secret thought")
    other = UserFactory()
    services.enrolment_join(learner=other, track=resource.track)
    client.force_login(other)
    assert "my secret thought" not in client.get("/tracks/nlp/").content.decode()
    assert "my secret thought" not in client.get(NOTE_URL).content.decode()


def test_revisit_toggle_with_htmx_and_without(client, learner, resource):
    body = client.post(REVISIT_URL, {"revisit": "1"}, **HX).content.decode()
    assert body.lstrip().startswith('<form id="revisit_attention"')
    assert 'aria-pressed="true"' in body and 'name="revisit" value="0"' in body
    assert ResourceNote.objects.get(learner=learner).revisit

    response = client.post(REVISIT_URL, {"revisit": "0"})
    assert response["Location"] == "/tracks/nlp/#resource-attention"
    assert not ResourceNote.objects.get(learner=learner).revisit
    # Only local "next" targets are followed.
    assert (
        client.post(REVISIT_URL, {"revisit": "1", "next": "/me/revisit/"})["Location"]
        == "/me/revisit/"
    )
    assert client.post(REVISIT_URL, {"revisit": "1", "next": "https://evil.example/"})[
        "Location"
    ] == ("/tracks/nlp/#resource-attention")


def test_revisit_page_lists_flagged_resources_by_track_and_can_unflag(client, learner, resource):
    other_track = TrackFactory(slug="cv", title="Computer Vision")
    other = ResourceFactory(
        module=ModuleFactory(track=other_track), slug="conv", title="Convolutions"
    )
    unflagged = ResourceFactory(module=resource.module, slug="later", title="Not flagged")
    gone = ResourceFactory(module=resource.module, slug="gone", title="Removed one")
    enrol(learner, other_track)
    for item in (resource, other, gone):
        services.note_set_revisit(learner=learner, resource=item, revisit=True)
    services.note_save(learner=learner, resource=resource, body="check **section 3**")
    services.note_save(learner=learner, resource=unflagged, body="just a note")
    gone.archived_at = timezone.now()
    gone.save()

    body = client.get("/me/revisit/").content.decode()
    assert body.index("Computer Vision") < body.index(">NLP<")  # grouped by track, by title
    assert (
        'href="/tracks/nlp/#resource-attention"' in body
        and 'href="/tracks/cv/#resource-conv"' in body
    )
    assert "<strong>section 3</strong>" in body
    assert "Not flagged" not in body and "Removed one" not in body

    response = client.post(REVISIT_URL, {"revisit": "0", "next": "/me/revisit/"}, follow=True)
    after = response.content.decode()
    assert "is off your revisit list" in after
    assert (
        'href="/tracks/nlp/#resource-attention"' not in after
        and 'href="/tracks/cv/#resource-conv"' in after
    )
    assert not ResourceNote.objects.get(learner=learner, resource=resource).revisit


def test_revisit_page_needs_a_login(client):
    assert client.get("/me/revisit/")["Location"].startswith("/accounts/login/")


def test_revisit_page_query_count_is_constant(client):
    def flagged_learner(n_tracks: int, per_track: int):
        user = UserFactory()
        for _ in range(n_tracks):
            module = ModuleFactory()
            enrol(user, module.track)
            for _ in range(per_track):
                item = ResourceFactory(module=module)
                services.note_set_revisit(learner=user, resource=item, revisit=True)
                services.note_save(learner=user, resource=item, body="*look again*")
        return user

    small, large = flagged_learner(1, 2), flagged_learner(10, 10)
    client.force_login(small)
    with CaptureQueriesContext(connection) as q_small:
        client.get("/me/revisit/")
    client.force_login(large)
    with CaptureQueriesContext(connection) as q_large:
        body = client.get("/me/revisit/").content.decode()
    assert body.count("<em>look again</em>") == 100
    assert len(q_small) == len(q_large)


def test_notes_and_flags_need_an_enrolment_but_unflagging_does_not(client, resource):
    outsider = UserFactory()
    client.force_login(outsider)
    base = f"/tracks/nlp/items/{resource.slug}"
    response = client.post(f"{base}/note", {"body": "sneaky"}, follow=True)
    assert "Enrol in NLP to keep notes on it." in response.content.decode()
    assert client.post(f"{base}/revisit", {"revisit": "1"}, **HX).status_code == 403
    assert not ResourceNote.objects.filter(learner=outsider).exists()

    # Someone who flagged it and then left can still take the flag off from /me/revisit/.
    services.enrolment_join(learner=outsider, track=resource.track)
    services.note_set_revisit(learner=outsider, resource=resource, revisit=True)
    services.enrolment_leave(learner=outsider, track=resource.track)
    client.post(f"{base}/revisit", {"revisit": "0"})
    assert ResourceNote.objects.get(learner=outsider).revisit is False


# --- every note: /me/notes/ and /me/notes.md -------------------------------------------------


def test_all_notes_are_listed_by_track_and_download_as_markdown(client, learner, resource):
    """dzlab's post: "take as much notes as you can". They lived one per resource, and only
    flagged ones were gathered anywhere (a note on a removed resource vanished from sight)."""
    later = ResourceFactory(module=resource.module, slug="later", title="Transformers")
    gone = ResourceFactory(module=resource.module, slug="gone", title="Removed one")
    empty = ResourceFactory(module=resource.module, slug="empty", title="Nothing written")
    services.note_save(learner=learner, resource=resource, body="check **section 3**")
    services.note_save(learner=learner, resource=later, body="# Big idea\n\nattention = all")
    services.note_save(learner=learner, resource=gone, body="kept anyway")
    services.note_set_revisit(learner=learner, resource=empty, revisit=True)  # no body
    services.note_set_revisit(learner=learner, resource=later, revisit=True)
    gone.archived_at = timezone.now()
    gone.save()
    stranger = UserFactory()
    services.enrolment_join(learner=stranger, track=resource.track)
    services.note_save(learner=stranger, resource=resource, body="someone else's secret")

    body = client.get("/me/notes/").content.decode()
    assert body.count('data-testid="note"') == 3 and "Nothing written" not in body
    assert "<strong>section 3</strong>" in body and "secret" not in body
    assert 'href="/tracks/nlp/#resource-later"' in body and "on your revisit list" in body
    assert 'Removed one</span> <span class="meta">(no longer on the track page)' in body
    assert 'href="/tracks/nlp/#resource-gone"' not in body

    response = client.get("/me/notes.md")
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="waymark-notes-')
    text = response.content.decode()
    assert text.startswith("# Your notes on Waymark\n")
    assert "## NLP\n" in text and f"### {resource.module.title}\n" in text
    assert "#### Attention paper\n" in text and "check **section 3**" in text  # as written
    assert "# Big idea\n\nattention = all" in text
    assert "no longer on the track page" in text and "secret" not in text
    assert text.index("Attention paper") < text.index("Transformers") < text.index("Removed one")


def test_the_notes_pages_need_a_login_and_say_so_when_empty(client):
    for url in ("/me/notes/", "/me/notes.md"):
        assert client.get(url)["Location"].startswith("/accounts/login/")
    client.force_login(UserFactory())
    assert "No notes yet" in client.get("/me/notes/").content.decode()
    assert "You have written no notes yet." in client.get("/me/notes.md").content.decode()


def test_the_notes_page_query_count_is_constant(client):
    def writer(n_tracks: int, per_track: int):
        user = UserFactory()
        for _ in range(n_tracks):
            module = ModuleFactory()
            enrol(user, module.track)
            for _ in range(per_track):
                services.note_save(
                    learner=user, resource=ResourceFactory(module=module), body="*mine*"
                )
        return user

    counts = []
    for user in (writer(1, 2), writer(10, 10)):
        client.force_login(user)
        for url in ("/me/notes/", "/me/notes.md"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
    assert counts[:2] == counts[2:]
