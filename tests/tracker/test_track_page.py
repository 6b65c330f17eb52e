"""The track page for learners: rendering by audience, the one-click status control (plain
POST and HTMX), soft locks, archived items, "changed since you finished", query counts."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import (
    CapstoneFactory,
    ModuleFactory,
    ResourceFactory,
    TrackFactory,
    UserFactory,
)
from tracker import services
from tracker.models import CapstoneSubmission, PointsEntry, Profile, Progress

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def status_url(resource) -> str:
    return f"/tracks/{resource.track.slug}/items/{resource.slug}/status"


def said(body: str) -> str:
    """What an htmx status answer says: the text it puts into #announcer."""
    match = re.search(r'<div id="announcer" hx-swap-oob="innerHTML">(.*?)</div>', body, re.S)
    assert match, "nothing said"
    return html.unescape(match.group(1))


def flashed(page: str) -> list[str]:
    """The flash messages of a page, as text (the page a plain post redirects to)."""
    flash = re.search(r'<div role="status" class="flash">(.*?)</div>', page, re.S)
    items = re.findall(r"<li[^>]*>(.*?)</li>", flash.group(1), re.S) if flash else []
    return [html.unescape(re.sub(r"<[^>]+>", "", item)) for item in items]


def points(user) -> int:
    return Profile.objects.get(user=user).points_total


@pytest.fixture
def course():
    """A track of two modules; the second requires the first."""
    track = TrackFactory(slug="cv", title="Computer Vision")
    first = ModuleFactory(track=track, slug="basics", title="Basics")
    second = ModuleFactory(track=track, slug="deeper", title="Deeper")
    second.requires.add(first)
    a = ResourceFactory(module=first, slug="lecture-1", title="Lecture one", minutes=40)
    b = ResourceFactory(module=first, slug="notebook-1", title="Notebook one", minutes=25)
    c = ResourceFactory(module=second, slug="lecture-2", title="Lecture two", minutes=30)
    capstone = CapstoneFactory(module=second, slug="classifier", title="Build a classifier")
    return {
        "track": track,
        "first": first,
        "second": second,
        "a": a,
        "b": b,
        "c": c,
        "capstone": capstone,
    }


@pytest.fixture
def learner(client, course):
    user = UserFactory()
    services.enrolment_join(learner=user, track=course["track"])
    client.force_login(user)
    return user


def test_anonymous_visitor_sees_the_curriculum_and_a_log_in_call_to_action(client, course):
    body = client.get("/tracks/cv/").content.decode()
    assert "Lecture one" in body and "Build a classifier" in body
    # A form to the enrol address: logging in or signing up from it ends enrolled.
    assert 'action="/tracks/cv/enrol"' in body and "Log in to enrol" in body
    assert "Sign up and enrol" in body
    assert 'name="status"' not in body and "track-progress" not in body


def test_logged_in_learner_who_is_not_enrolled_sees_an_enrol_button(client, course):
    client.force_login(UserFactory())
    body = client.get("/tracks/cv/").content.decode()
    assert 'action="/tracks/cv/enrol"' in body and ">Enrol<" in body
    assert 'name="status"' not in body and "Log in to enrol" not in body


def test_enrolled_learner_sees_progress_status_controls_and_capstone_link(client, course, learner):
    services.progress_set_status(learner=learner, resource=course["a"], status="done")
    CapstoneSubmission.objects.create(
        learner=learner,
        capstone=course["capstone"],
        track=course["track"],
        title="My classifier",
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    body = client.get("/tracks/cv/").content.decode()
    assert "1 of 4 done · 25%" in body  # a, b, c and the capstone are the four units
    assert body.count('name="status"') == 3 * 4
    assert 'value="done" class="status-done" aria-pressed="true"' in body
    assert 'action="/tracks/cv/leave"' in body
    assert "/tracks/cv/capstones/classifier/" in body and "Draft" in body
    assert "40 pts" in body and "25 pts" in body


def test_module_complete_state_and_soft_lock_notice(client, course, learner):
    body = client.get("/tracks/cv/").content.decode()
    assert 'Finish <a href="#module-basics">Basics</a> first' in body
    assert "✓ Complete" not in body
    for resource in (course["a"], course["b"]):
        services.progress_set_status(learner=learner, resource=resource, status="done")
    body = client.get("/tracks/cv/").content.decode()
    assert 'Finish <a href="#module-basics">Basics</a> first' not in body
    assert "✓ Complete" in body and "2 of 2 done" in body
    # Soft lock only: the locked module's controls were usable all along.
    assert f'action="{status_url(course["c"])}"' in body


def test_plain_post_changes_status_redirects_to_the_anchor_and_awards_points(
    client, course, learner
):
    response = client.post(status_url(course["a"]), {"status": "done"})
    assert response.status_code == 302
    assert response["Location"] == "/tracks/cv/#resource-lecture-1"
    assert points(learner) == 40
    page = client.get(response["Location"]).content.decode()
    assert flashed(page) == [
        "“Lecture one” marked done. Basics: 1 of 2 done. Track: 1 of 4 done (25%)."
        " 40 points earned, 40 in total."
    ]
    assert '<span class="points-value" data-testid="header-points">40</span>' in page


def test_htmx_post_returns_the_row_and_out_of_band_progress_and_points(client, course, learner):
    response = client.post(status_url(course["a"]), {"status": "done"}, **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<li class="resource is-done" id="resource-lecture-1"')
    assert 'value="done" class="status-done" aria-pressed="true" data-autofocus' in body
    assert 'id="module_status_basics" class="module-status" hx-swap-oob="innerHTML"' in body
    assert 'id="track-progress"' in body and "1 of 4 done · 25%" in body
    assert 'id="header-points"' in body and 'data-testid="header-points">40<' in body
    # Only what changed: this module's block (the module after it stays locked), the track's
    # progress, the header points and the messages, none of them a live region; and what the
    # click did, said once through the page's announcer.
    assert body.count('hx-swap-oob="innerHTML"') == 1 + 1 + 1 + 1 + 1
    assert "aria-live" not in body and 'role="status"' not in body
    assert said(body) == (
        "“Lecture one” marked done. Basics: 1 of 2 done. Track: 1 of 4 done (25%)."
        " 40 points earned, 40 in total."
    )
    assert 'id="module_status_deeper"' not in body
    assert "<html" not in body


def test_finishing_a_module_also_sends_the_block_of_the_module_it_unlocks(client, course, learner):
    client.post(status_url(course["a"]), {"status": "done"}, **HX)
    body = client.post(status_url(course["b"]), {"status": "done"}, **HX).content.decode()
    assert 'id="module_status_basics"' in body and "✓ Complete" in body
    deeper = body[body.index('id="module_status_deeper"') :]
    assert (
        'hx-swap-oob="innerHTML"' in deeper[:200] and "soft-lock" not in deeper.split("</div>")[0]
    )
    assert body.count('hx-swap-oob="innerHTML"') == 2 + 1 + 1 + 1 + 1
    # Undoing it locks the module again: both blocks once more.
    body = client.post(status_url(course["b"]), {"status": "in_progress"}, **HX).content.decode()
    assert 'Finish <a href="#module-basics">Basics</a> first' in body
    assert body.count('hx-swap-oob="innerHTML"') == 2 + 1 + 1 + 1 + 1
    # A change inside a module that stays incomplete leaves the other module alone.
    body = client.post(status_url(course["a"]), {"status": "skipped"}, **HX).content.decode()
    assert 'id="module_status_deeper"' not in body


def test_undo_reverses_the_points(client, course, learner):
    client.post(status_url(course["a"]), {"status": "in_progress"}, **HX)
    assert points(learner) == 0
    client.post(status_url(course["a"]), {"status": "done"}, **HX)
    assert points(learner) == 40
    body = client.post(status_url(course["a"]), {"status": "in_progress"}, **HX).content.decode()
    assert points(learner) == 0
    assert 'data-testid="header-points">0<' in body
    assert list(PointsEntry.objects.filter(learner=learner).values_list("amount", flat=True)) == [
        40,
        -40,
    ]


def click(client, resource, status: str, *, htmx: bool) -> str:
    """What one status click says: with htmx, the announcer's sentence; without JavaScript,
    the flash message of the page the post redirects to."""
    if htmx:
        return said(client.post(status_url(resource), {"status": status}, **HX).content.decode())
    response = client.post(status_url(resource), {"status": status}, follow=True)
    (message,) = flashed(response.content.decode())
    return message


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-javascript"])
def test_each_status_click_says_what_it_changed_in_one_sentence(client, course, learner, htmx):
    """The module's progress, the track's, the points and the modules a change unlocks or
    locks again used to be four live regions, each announced on its own (in an order the
    screen reader chose), and re-announced when unchanged; now one sentence, the same with
    and without JavaScript."""
    a, b = course["a"], course["b"]
    assert click(client, a, "in_progress", htmx=htmx) == (
        "“Lecture one” marked in progress. Basics: 0 of 2 done. Track: 0 of 4 done (0%)."
    )
    assert click(client, a, "done", htmx=htmx) == (
        "“Lecture one” marked done. Basics: 1 of 2 done. Track: 1 of 4 done (25%)."
        " 40 points earned, 40 in total."
    )
    assert click(client, a, "done", htmx=htmx) == "“Lecture one” was already done: nothing changed."
    assert click(client, b, "skipped", htmx=htmx) == (
        "“Notebook one” marked skipped. Basics: 1 of 2 done. Track: 1 of 4 done (25%)."
    )
    # Finishing the module lifts the next module's "Finish Basics first".
    assert click(client, b, "done", htmx=htmx) == (
        "“Notebook one” marked done. Basics complete: 2 of 2 done. Ready for Deeper."
        " Track: 2 of 4 done (50%). 25 points earned, 65 in total."
    )
    # Undo: the points are taken back, the module is no longer complete, the lock is back.
    assert click(client, b, "not_started", htmx=htmx) == (
        "“Notebook one” marked not started. Basics: 1 of 2 done, no longer complete."
        " Deeper: finish Basics first. Track: 1 of 4 done (25%)."
        " 25 points taken back, 40 in total."
    )
    assert click(client, course["c"], "done", htmx=htmx) == (
        "“Lecture two” marked done. Deeper: 1 of 2 done. Track: 2 of 4 done (50%)."
        " 30 points earned, 70 in total."
    )


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-javascript"])
def test_completing_a_track_says_so_with_its_certificate_and_undoing_it_too(client, learner, htmx):
    track = TrackFactory(slug="tiny", title="Tiny")
    module = ModuleFactory(track=track, title="All of it")
    only = ResourceFactory(module=module, slug="only", title="The only one", minutes=10)
    extra = ResourceFactory(
        module=ModuleFactory(track=track, title="Extras"),
        slug="extra",
        title="Extra",
        optional=True,
    )
    services.enrolment_join(learner=learner, track=track)
    assert click(client, only, "done", htmx=htmx) == (
        "“The only one” marked done. All of it complete: 1 of 1 done."
        " Track: 1 of 1 done (100%). 10 points earned, 10 in total."
        " You completed Tiny! See your certificate."
    )
    certificate = learner.certificates.get()
    # A click on an optional item of a complete track.
    assert click(client, extra, "in_progress", htmx=htmx) == (
        "“Extra” marked in progress. Everything in Extras is optional."
        " Track complete: 1 of 1 done (100%)."
    )
    assert click(client, only, "in_progress", htmx=htmx) == (
        "“The only one” marked in progress. All of it: 0 of 1 done, no longer complete."
        " Track: 0 of 1 done (0%), no longer complete. Your certificate stays yours."
        " 10 points taken back, 0 in total."
    )
    # Complete again: the certificate it has already.
    assert click(client, only, "done", htmx=htmx) == (
        "“The only one” marked done. All of it complete: 1 of 1 done."
        " Track complete: 1 of 1 done (100%). 10 points earned, 10 in total."
    )
    assert learner.certificates.get() == certificate


def test_the_certificate_notice_links_the_certificate_with_and_without_javascript(client, learner):
    track = TrackFactory(slug="tiny", title="Tiny")
    only = ResourceFactory(module=ModuleFactory(track=track), slug="only", minutes=10)
    services.enrolment_join(learner=learner, track=track)
    body = client.post(status_url(only), {"status": "done"}, **HX).content.decode()
    link = f'<a href="{learner.certificates.get().get_absolute_url()}">See your certificate</a>'
    # Shown with its link in the message area, which is no live region; #announcer says the
    # words without the link.
    messages = body[body.index('id="track-messages"') :]
    assert f"You completed Tiny! {link}." in messages[: messages.index("</div>")]
    assert "<a " not in body[body.index('id="announcer"') :]
    # Without JavaScript, the flash message links it.
    other = UserFactory()
    services.enrolment_join(learner=other, track=track)
    client.force_login(other)
    page = client.post(status_url(only), {"status": "done"}, follow=True).content.decode()
    link = f'<a href="{other.certificates.get().get_absolute_url()}">See your certificate</a>'
    assert f"You completed Tiny! {link}." in page[page.index('class="flash"') :]


def test_post_from_a_learner_not_enrolled_is_refused(client, course):
    outsider = UserFactory()
    client.force_login(outsider)
    response = client.post(status_url(course["a"]), {"status": "done"})
    assert response.status_code == 302 and response["Location"] == "/tracks/cv/"
    assert (
        "Enrol in Computer Vision to log your progress"
        in client.get("/tracks/cv/").content.decode()
    )
    htmx = client.post(status_url(course["a"]), {"status": "done"}, **HX)
    assert htmx.status_code == 403 and htmx["HX-Redirect"] == "/tracks/cv/"
    assert not Progress.objects.filter(learner=outsider).exists()
    assert not PointsEntry.objects.exists()


def test_anonymous_post_is_sent_to_log_in(client, course):
    response = client.post(status_url(course["a"]), {"status": "done"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Progress.objects.exists()


def test_unknown_status_is_refused_with_a_message_and_no_change(client, course, learner):
    response = client.post(status_url(course["a"]), {"status": "finished"})
    assert response["Location"] == "/tracks/cv/#resource-lecture-1"
    assert "Unknown status &#x27;finished&#x27;" in client.get("/tracks/cv/").content.decode()
    body = client.post(status_url(course["a"]), {"status": "<b>x</b>"}, **HX).content.decode()
    # An alert, and nothing said besides: the announcer keeps the last change's words.
    assert (
        '<div role="alert"><ul class="messages"><li class="message message-error">'
        "Unknown status &#x27;&lt;b&gt;x&lt;/b&gt;&#x27;" in body
    )
    assert 'id="announcer"' not in body and "aria-live" not in body
    assert not Progress.objects.exists() and points(learner) == 0


def test_get_on_the_status_url_is_not_allowed(client, course, learner):
    assert client.get(status_url(course["a"])).status_code == 405


def test_archived_resource_is_hidden_but_its_points_stay(client, course, learner):
    services.progress_set_status(learner=learner, resource=course["b"], status="done")
    course["b"].archived_at = timezone.now()
    course["b"].save()
    body = client.get("/tracks/cv/").content.decode()
    assert "Notebook one" not in body
    assert points(learner) == 25
    assert 'data-testid="header-points">25<' in body
    # Its progress can no longer change, and the refusal says why.
    client.post(status_url(course["b"]), {"status": "not_started"})
    assert points(learner) == 25
    assert "was removed from its track" in client.get("/tracks/cv/").content.decode()


def test_a_click_on_a_resource_removed_since_the_page_loaded_says_so(client, course, learner):
    """With the page open, a lead archives a resource, then the learner clicks it: the answer
    was a server error ("Waymark is briefly unavailable"). It says why nothing changed, and
    leaves the row on the page alone (there is no row to send)."""
    course["b"].archived_at = timezone.now()
    course["b"].save()
    response = client.post(status_url(course["b"]), {"status": "done"}, **HX)
    assert response.status_code == 200 and response["HX-Reswap"] == "none"
    body = response.content.decode()
    assert 'id="track-messages"' in body and '<div role="alert">' in body
    assert "Notebook one&#x27; was removed from its track" in body
    assert 'id="resource-notebook-1"' not in body and not Progress.objects.exists()


def test_changed_since_you_finished_mark(client, course, learner):
    services.progress_set_status(learner=learner, resource=course["a"], status="done")
    services.progress_set_status(learner=learner, resource=course["b"], status="done")
    later = timezone.now() + timedelta(days=2)
    course["a"].content_changed_at = later
    course["a"].save()
    course["b"].content_changed_at = timezone.now() - timedelta(days=30)  # changed before finishing
    course["b"].save()
    course["c"].content_changed_at = later  # changed, but never finished
    course["c"].save()
    body = client.get("/tracks/cv/").content.decode()
    assert body.count('data-testid="changed-mark"') == 1
    row = body[body.index('id="resource-lecture-1"') : body.index('id="resource-notebook-1"')]
    assert "Changed since you finished" in row


def test_a_certificate_link_appears_when_the_last_item_is_done(client, learner):
    track = TrackFactory(slug="tiny", title="Tiny")
    only = ResourceFactory(module=ModuleFactory(track=track), slug="only")
    services.enrolment_join(learner=learner, track=track)
    body = client.post(status_url(only), {"status": "done"}, **HX).content.decode()
    certificate = learner.certificates.get()
    assert f'<a href="{certificate.get_absolute_url()}">See your certificate</a>' in body
    # Marking it done again issues nothing new: no second announcement, but the track's
    # progress block keeps linking the certificate.
    services.progress_set_status(learner=learner, resource=only, status="in_progress")
    again = client.post(status_url(only), {"status": "done"}, **HX).content.decode()
    assert "You completed Tiny!" not in again
    assert f'<a href="{certificate.get_absolute_url()}">See your certificate</a>' in again
    assert learner.certificates.count() == 1
    page = client.get(track.get_absolute_url()).content.decode()
    assert f'<a href="{certificate.get_absolute_url()}">See your certificate</a>' in page


def build_track(slug: str, modules: int, resources: int) -> list:
    track = TrackFactory(slug=slug)
    made = []
    previous = None
    for _ in range(modules):
        module = ModuleFactory(track=track)
        if previous is not None:
            module.requires.add(previous)
        previous = module
        made += [ResourceFactory(module=module) for _ in range(resources)]
        CapstoneFactory(module=module)
    return made


def learner_with_state(tracks: dict[str, list], *, notes: bool = True):
    """A learner enrolled everywhere, with progress, notes and submissions on every item."""
    user = UserFactory()
    for resources in tracks.values():
        track = resources[0].track
        services.enrolment_join(learner=user, track=track)
        for index, resource in enumerate(resources):
            services.progress_set_status(
                learner=user,
                resource=resource,
                status=["done", "in_progress", "skipped"][index % 3],
            )
            if notes:
                services.note_save(learner=user, resource=resource, body=f"note *{index}*")
                services.note_set_revisit(learner=user, resource=resource, revisit=index % 2 == 0)
        for capstone in track.capstones.all():
            CapstoneSubmission.objects.create(
                learner=user,
                capstone=capstone,
                track=track,
                title="Mine",
                created_at=timezone.now(),
                updated_at=timezone.now(),
            )
    return user


def test_track_page_query_count_is_constant_for_an_enrolled_learner(client):
    small = build_track("small", 2, 2)
    large = build_track("large", 20, 10)
    others = {f"other-{i}": build_track(f"other-{i}", 1, 2) for i in range(10)}
    small_learner = learner_with_state({"small": small})
    # Ten times the data, and enrolments in ten other tracks that must not matter either.
    large_learner = learner_with_state({"large": large, **others})
    client.force_login(small_learner)
    with CaptureQueriesContext(connection) as q_small:
        assert client.get("/tracks/small/").status_code == 200
    client.force_login(large_learner)
    with CaptureQueriesContext(connection) as q_large:
        body = client.get("/tracks/large/").content.decode()
    # Its first whole modules (10 resources and a capstone each) up to FIRST_ROWS rows come
    # with the page; the others are their heading, progress and a link that loads their rows.
    assert body.count('name="status"') == 2 * 10 * 4
    assert body.count("data-module-more") == 18
    assert body.count('data-testid="module-progress"') == 20
    assert len(q_small) == len(q_large), [q["sql"] for q in q_large.captured_queries]
    # Warm (the structure cached): the session's user, their roles for the header, the track
    # row with the enrolment, certificate and the header's points and name, progress, notes
    # and submissions. The session itself comes from Redis; only when Redis is slow or down
    # does the failover cache read it from the database (not the page's doing, so not counted).
    page_queries = [
        q["sql"]
        for q in q_large.captured_queries
        if "django_session" not in q["sql"] and "waymark_cache" not in q["sql"]
    ]
    assert len(page_queries) <= 6, page_queries
    assert not any(
        "tracker_profile" in sql and "curriculum_track" not in sql for sql in page_queries
    )
    # The header's points came with the track row.
    assert f'data-testid="header-points">{points(large_learner)}<' in body


def test_the_header_shows_the_learners_points_and_name_read_with_the_track_row(
    client, course, learner
):
    services.progress_set_status(learner=learner, resource=course["a"], status="done")
    Profile.objects.filter(user=learner).update(display_name="Ada L.")
    body = client.get("/tracks/cv/").content.decode()
    assert f'data-testid="header-points">{points(learner)}<' in body and points(learner) > 0
    assert ">Ada L.</a>" in body
    # Without a chosen name the header shows the email, as on every other page.
    Profile.objects.filter(user=learner).update(display_name="")
    assert f">{learner.email}</a>" in client.get("/tracks/cv/").content.decode()


def test_a_learner_without_a_profile_yet_gets_one_from_the_header(client, course):
    user = UserFactory()
    Profile.objects.filter(user=user).delete()
    client.force_login(user)
    body = client.get("/tracks/cv/").content.decode()
    assert 'data-testid="header-points">0<' in body
    assert Profile.objects.filter(user=user).exists()


def test_a_later_module_of_a_large_track_loads_with_a_constant_number_of_queries(client):
    small = build_track("small", 2, 2)
    large = build_track("large", 20, 10)
    counts = []
    for resources, modules in ((small, 2), (large, 20)):
        learner = learner_with_state({"track": resources})
        client.force_login(learner)
        track, last = resources[0].track, resources[-1].module
        url = f"{track.get_absolute_url()}?module={last.slug}"
        client.get(url, **HX)  # warm: the structure is cached
        with CaptureQueriesContext(connection) as queries:
            fragment = client.get(url, **HX)
        counts.append(len(queries))
        body = fragment.content.decode()
        assert body.lstrip().startswith(
            f'<ul class="resource-list" role="list" id="module_body_{last.slug}"'
        )
        assert body.count('name="status"') == len(resources) // modules * 4
        assert "<html" not in body and 'aria-pressed="true"' in body
        assert fragment["Vary"] and "HX-Request" in fragment["Vary"]
    assert counts[0] == counts[1]


def test_status_post_query_count_is_constant(client):
    small = build_track("small", 2, 2)
    large = build_track("large", 20, 10)
    small_learner = learner_with_state({"small": small[:-1]})
    large_learner = learner_with_state({"large": large[:-1]})
    client.force_login(small_learner)
    with CaptureQueriesContext(connection) as q_small:
        assert client.post(status_url(small[-1]), {"status": "done"}, **HX).status_code == 200
    client.force_login(large_learner)
    with CaptureQueriesContext(connection) as q_large:
        assert client.post(status_url(large[-1]), {"status": "done"}, **HX).status_code == 200
    assert points(large_learner) > 0
    assert len(q_small) == len(q_large), [q["sql"] for q in q_large.captured_queries]
    # The peer LMS we measured ran 35 queries (13 repeated) for this click. Ours: the user, the
    # resource with its track and the learner's note, then the write (profile lock with the
    # enrolment rule, the learner's standing in the track, progress with the ledger entry and
    # the running total and the cohort chart's weekly completion count in one statement on
    # PostgreSQL, the enrolment's totals); the answer is built from what the write knows.
    # Outside a test BEGIN and COMMIT make it 8, issue 15's budget. (The test's own transaction
    # turns the service's into a savepoint, not counted.)
    statements = [q["sql"] for q in q_large.captured_queries if "SAVEPOINT" not in q["sql"]]
    # SQLite (the zero-set-up default) writes each part on its own and reads the session from
    # the database: 10.
    assert len(statements) <= (6 if connection.vendor == "postgresql" else 10), statements


def test_htmx_request_after_the_session_expired_sends_the_page_to_log_in(client, course):
    response = client.post(
        status_url(course["a"]),
        {"status": "done"},
        **HX,
        HTTP_HX_CURRENT_URL="http://testserver/tracks/cv/",
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/?next=/tracks/cv/"
    assert not Progress.objects.exists()


def test_the_sentence_keeps_titles_as_text(client, learner):
    track = TrackFactory(slug="odd", title="Odd")
    module = ModuleFactory(track=track, title="Q&A <i>live</i>")
    first = ResourceFactory(module=module, slug="first", title="Tom & <b>Jerry</b>", minutes=5)
    ResourceFactory(module=module, slug="second", minutes=5)
    services.enrolment_join(learner=learner, track=track)
    body = client.post(status_url(first), {"status": "done"}, **HX).content.decode()
    assert "<b>" not in body and "<i>" not in body
    assert said(body) == (
        "“Tom & <b>Jerry</b>” marked done. Q&A <i>live</i>: 1 of 2 done."
        " Track: 1 of 2 done (50%). 5 points earned, 5 in total."
    )
