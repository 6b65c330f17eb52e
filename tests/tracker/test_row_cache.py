"""The track page's kept rows (`{% resource_row %}`): a row shared by every learner with the same
status is rendered once per process, and the page must read exactly as if every row had been
rendered for its learner: their own CSRF token, their own notes, the curriculum as it is now."""

import re
from functools import lru_cache

import pytest
from django.test import Client

from tests.factories import ModuleFactory, ResourceFactory, TrackFactory, UserFactory
from tracker import services
from tracker.models import Progress
from tracker.templatetags import track_page
from tracker.templatetags.track_page import ROW_CACHE_SIZE, kept_row

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def row_html(body: str, slug: str) -> str:
    start = body.index(f'id="resource-{slug}"')
    return body[start : body.index("</li>", start)]


@pytest.fixture
def track():
    track = TrackFactory(slug="kept", title="Kept rows")
    module = ModuleFactory(track=track, slug="one", title="One")
    for slug in ("a", "b", "c", "d", "e"):
        ResourceFactory(module=module, slug=slug, title=f"Resource {slug.upper()}")
    base = TrackFactory(slug="base", title="The base track")
    ResourceFactory(module=ModuleFactory(track=base), slug="base-only")
    ResourceFactory(module=module, slug="linked", kind="track", linked_track=base, points=0)
    return track


def learner_in(track, **statuses) -> Client:
    user = UserFactory()
    services.enrolment_join(learner=user, track=track)
    resources = {r.slug: r for r in track.resources.all()}
    for slug, status in statuses.items():
        services.progress_set_status(learner=user, resource=resources[slug], status=status)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def page(client: Client) -> str:
    response = client.get("/tracks/kept/")
    assert response.status_code == 200
    return response.content.decode()


def without_tokens(body: str) -> str:
    """The page with its CSRF tokens blanked (each one is masked afresh)."""
    return re.sub(r"\b[A-Za-z0-9]{64}\b", "…", body)


def test_kept_rows_read_exactly_as_rows_rendered_afresh(track, monkeypatch):
    statuses = {"a": "done", "b": "in_progress", "c": "skipped"}
    first = learner_in(track, **statuses)
    second = learner_in(track, **statuses)
    resources = {r.slug: r for r in track.resources.all()}
    services.note_set_revisit(learner=second.user, resource=resources["d"], revisit=True)
    services.note_save(learner=second.user, resource=resources["e"], body="My *own* words")

    page(first)  # fills the cache
    assert kept_row.cache_info().currsize >= 5
    hits = kept_row.cache_info().hits
    kept = page(second)
    assert kept_row.cache_info().hits == hits + 3  # a, b and c came from the first page

    # Nothing shared: every row rendered in the learner's own context, as before the cache.
    monkeypatch.setattr(track_page, "_shared", lambda row, context: False)
    kept_row.cache_clear()
    fresh = page(second)
    assert kept_row.cache_info().currsize == 0
    assert without_tokens(kept) == without_tokens(fresh)
    assert 'aria-pressed="true">Done' in row_html(kept, "a")
    assert 'aria-pressed="true">In progress' in row_html(kept, "b")
    assert 'aria-pressed="true"' in row_html(kept, "d")  # the revisit flag
    assert "<em>own</em>" in row_html(kept, "e")


def test_the_answer_to_a_click_is_a_kept_row_with_its_pressed_button_focused(track, monkeypatch):
    def click(client: Client, slug: str) -> str:
        response = client.post(
            f"/tracks/kept/items/{slug}/status", {"status": "done"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        return response.content.decode()

    click(learner_in(track), "a")  # another learner's click fills the cache
    learner = learner_in(track)
    hits = kept_row.cache_info().hits
    answer = click(learner, "a")
    assert kept_row.cache_info().hits == hits + 1
    assert 'value="done" class="status-done" aria-pressed="true" data-autofocus' in answer

    # As rendered afresh in the learner's own context, and the page's row takes no focus.
    monkeypatch.setattr(track_page, "_shared", lambda row, context: False)
    kept_row.cache_clear()
    fresh = click(learner_in(track), "a")
    assert without_tokens(row_html(answer, "a")) == without_tokens(row_html(fresh, "a"))
    monkeypatch.undo()
    assert "data-autofocus" not in row_html(page(learner), "a")


def test_a_kept_row_carries_each_learners_own_csrf_token_and_its_form_works(track):
    page(learner_in(track))  # another learner's page fills the cache
    user = UserFactory()
    services.enrolment_join(learner=user, track=track)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    body = strict.get("/tracks/kept/").content.decode()

    token = TOKEN.search(row_html(body, "a")).group(1)
    response = strict.post(
        "/tracks/kept/items/a/status", {"status": "done", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Progress.objects.get(learner=user, resource__slug="a").status == "done"


def test_another_learners_note_and_flag_never_show_on_my_page(track):
    resources = {r.slug: r for r in track.resources.all()}
    writer = learner_in(track, a="done")
    services.note_save(learner=writer.user, resource=resources["a"], body="Secret thoughts")
    services.note_set_revisit(learner=writer.user, resource=resources["b"], revisit=True)
    assert "Secret thoughts" in page(writer)

    reader = learner_in(track, a="done")
    body = page(reader)
    assert "Secret thoughts" not in body
    assert 'aria-pressed="false"' in row_html(body, "b").split("revisit-button", 1)[1]
    assert "Add a note" in row_html(body, "a")


def test_an_edit_to_the_curriculum_shows_on_the_next_page(track):
    learner = learner_in(track)
    assert "Resource A" in row_html(page(learner), "a")
    resource = track.resources.get(slug="a")
    resource.title = "A better title"
    resource.save()  # as the admin saves it: the track's structure version moves on

    body = page(learner)
    assert "A better title" in row_html(body, "a")
    assert "Resource A" not in body


def test_visitors_rows_have_no_controls_and_do_not_become_a_learners(track):
    visitor = page(Client())
    assert "status-form" not in row_html(visitor, "a")
    assert "status-form" in row_html(page(learner_in(track)), "a")
    assert "status-form" not in row_html(page(Client()), "a")


def test_the_cache_keeps_at_most_its_size(track, monkeypatch):
    assert kept_row.cache_info().maxsize == ROW_CACHE_SIZE
    small = lru_cache(maxsize=3)(track_page._render_kept_row)
    monkeypatch.setattr(track_page, "kept_row", small)
    body = page(learner_in(track, a="done", b="skipped"))
    assert small.cache_info().currsize == 3
    for slug in ("a", "b", "c", "d", "e"):
        assert f'id="resource-{slug}"' in body
