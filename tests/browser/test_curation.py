"""Curation in a real browser: a lead edits a resource title in place and the learner's page
shows it; reorders two modules by keyboard; uploads a YAML file that archives a resource, sees
how many learners have progress on it, cancels, uploads again and applies; reads the history.
A learner who is not a lead gets 403 or 404 on each of those pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from curriculum.models import Resource
from tests.browser.test_lead_reviews import signed_in
from tests.curriculum.curation_world import TRACK_YAML, build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WITHOUT_NOTEBOOK = TRACK_YAML.replace(
    """        - slug: notebook
          title: Lesson notebook
          kind: notebook
          url: https://example.com/nb
""",
    "",
)


def upload(page, live_server):
    page.goto(f"{live_server.url}/tracks/pets/edit/upload/")
    page.get_by_label("YAML file of the track").set_input_files(
        files=[
            {
                "name": "pets.yaml",
                "mimeType": "application/yaml",
                "buffer": WITHOUT_NOTEBOOK.encode(),
            }
        ]
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Preview of pets.yaml")).to_be_visible()


def test_a_lead_curates_a_track_in_the_browser(browser, live_server):
    world = build()
    context, page = signed_in(browser, live_server, world.lead)
    learner_context, learner_page = signed_in(browser, live_server, world.learner)

    # Edit a resource title in place (HTMX), then the learner sees it on the track page.
    page.goto(f"{live_server.url}/tracks/pets/edit/")
    page.get_by_role("link", name="Edit resource Lesson video").click()
    row = page.locator("#resource-video")
    expect(row.get_by_label("Title")).to_be_focused()  # the form opens at its first field
    row.get_by_label("Title").fill("Lesson video, recut")
    row.get_by_role("button", name="Save resource Lesson video").click()
    expect(page.locator("#resource-video")).to_contain_text("Lesson video, recut")
    # Focus goes back to the row's Edit link, not to the page's start.
    expect(page.get_by_role("link", name="Edit resource Lesson video, recut")).to_be_focused()
    # What was saved is said through the page's live region (the row arrived whole).
    saved = page.locator("#resource-video .saved")
    expect(saved).to_contain_text("Saved")
    expect(page.locator("#announcer")).to_have_text(saved.inner_text())
    expect(
        page.locator("#resource-video").get_by_role("button", name="Save resource Lesson video")
    ).to_have_count(0)
    expect(page.get_by_test_id("sync-status")).to_contain_text("The YAML in git is behind")
    assert page.url.endswith("/tracks/pets/edit/")  # swapped in place, no reload
    learner_page.goto(f"{live_server.url}/tracks/pets/")
    expect(
        learner_page.get_by_role(
            "link", name="Lesson video, recut (opens in a new tab)", exact=True
        )
    ).to_be_visible()

    # Reorder two modules by keyboard: focus "Move down", press Enter; focus stays on it.
    modules = page.get_by_test_id("module")
    expect(modules.first).to_contain_text("Lesson one")
    move = page.get_by_role("button", name="Move down Lesson one")
    move.focus()
    page.keyboard.press("Enter")
    expect(modules.first).to_contain_text("Lesson two")
    expect(page.get_by_role("button", name="Move down Lesson one")).to_be_focused()
    moved = page.locator("#module-one").get_by_test_id("notice")
    expect(moved).to_have_text("Moved “Lesson one” down.")
    expect(page.locator("#announcer")).to_have_text(moved.inner_text())
    learner_page.goto(f"{live_server.url}/tracks/pets/")
    body = learner_page.content()
    assert body.index("Lesson two") < body.index("Lesson one")

    # Upload a file that archives the notebook: the preview counts the learner who did it.
    upload(page, live_server)
    archived = page.get_by_test_id("preview-archived")
    expect(archived).to_contain_text("Lesson notebook")
    expect(archived.get_by_test_id("archive-learners")).to_have_text("1 learner")
    page.get_by_role("button", name="Cancel the upload").click()
    expect(page.get_by_text("nothing was changed")).to_be_visible()
    assert Resource.objects.get(track__slug="pets", slug="notebook").archived_at is None

    upload(page, live_server)
    page.get_by_role("button", name="Apply these changes").click()
    expect(page.get_by_text("Applied pets.yaml")).to_be_visible()
    assert Resource.objects.get(track__slug="pets", slug="notebook").archived_at is not None
    expect(page.get_by_test_id("archived")).to_contain_text("Lesson notebook")
    learner_page.goto(f"{live_server.url}/tracks/pets/")
    expect(learner_page.get_by_role("link", name=re.compile("^Lesson notebook"))).to_have_count(0)

    # The history: newest first, who and how.
    page.goto(f"{live_server.url}/tracks/pets/history/")
    entries = page.get_by_test_id("history-entry")
    expect(entries.first).to_contain_text("YAML upload")
    expect(page.get_by_test_id("history")).to_contain_text("browser edit")
    expect(page.get_by_test_id("history")).to_contain_text("Lesson video, recut")
    assert not page.console_errors, page.console_errors

    # A learner who is not a lead: 403 on every curation page of this public track.
    for path in (
        "/tracks/pets/edit/",
        "/tracks/pets/edit/resources/video/",
        "/tracks/pets/edit/upload/",
        "/tracks/pets/edit/download.yaml",
        "/tracks/pets/history/",
    ):
        response = learner_page.goto(f"{live_server.url}{path}")
        assert response.status in (403, 404), path
    context.close()
    learner_context.close()


def test_editing_without_javascript(browser, live_server):
    world = build(progress=False)
    context, page = signed_in(browser, live_server, world.lead, javascript=False)
    page.goto(f"{live_server.url}/tracks/pets/edit/")
    page.get_by_role("link", name="Edit resource Lesson video").click()
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save resource Lesson video").click()
    expect(page.get_by_test_id("error-title")).to_have_text("Enter a title.")
    page.get_by_label("Title").fill("Plain form title")
    page.get_by_role("button", name="Save resource Lesson video").click()
    expect(page.locator("#resource-video")).to_contain_text("Plain form title")
    page.get_by_role("button", name="Move down Lesson one").click()
    expect(page.get_by_test_id("module").first).to_contain_text("Lesson two")
    context.close()


def test_a_move_asks_before_dropping_typing_in_an_open_form(browser, live_server):
    world = build()
    context, page = signed_in(browser, live_server, world.lead)
    page.goto(f"{live_server.url}/tracks/pets/edit/")
    page.get_by_role("link", name="Edit resource Lesson video").click()
    notes = page.locator("#resource-video").get_by_label("Notes")
    notes.fill("Half a thought")
    modules = page.get_by_test_id("module")

    answers = []

    def answer(dialog, accept):
        answers.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name="Move down Lesson one").click()
    expect(notes).to_have_value("Half a thought")  # kept, and nothing moved
    expect(modules.first).to_contain_text("Lesson one")
    assert answers and "not saved" in answers[0]

    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="Move down Lesson one").click()
    expect(modules.first).to_contain_text("Lesson two")  # moved, the form dropped as asked
    expect(page.get_by_label("Notes")).to_have_count(0)
    context.close()


def test_focus_follows_the_item_archived_then_restored(browser, live_server):
    world = build()
    context, page = signed_in(browser, live_server, world.lead)
    page.goto(f"{live_server.url}/tracks/pets/edit/")
    page.once("dialog", lambda dialog: dialog.accept())  # "Archive Lesson notebook?"
    page.get_by_role("button", name="Archive resource Lesson notebook").click()
    restore = page.get_by_role("button", name="Restore resource Lesson notebook")
    expect(restore).to_be_focused()  # the archived item's own control (focus fell to <body>)
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Edit resource Lesson notebook")).to_be_focused()
    context.close()


def test_a_resource_given_another_module_in_its_form_shows_there(browser, live_server):
    """Saved from the in-place form, the row came back where it had been (under its old
    module) though the resource now belonged to the other: the outline said otherwise than
    the track page until a reload."""
    world = build(progress=False)
    context, page = signed_in(browser, live_server, world.lead)
    page.goto(f"{live_server.url}/tracks/pets/edit/")
    page.get_by_role("link", name="Edit resource Lesson notebook").click()
    row = page.locator("#resource-notebook")
    row.get_by_label("Module").select_option(label="Lesson two")
    row.get_by_role("button", name="Save resource Lesson notebook").click()
    expect(page.locator("#module-two #resource-notebook")).to_contain_text("Lesson notebook")
    expect(page.locator("#module-one #resource-notebook")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit resource Lesson notebook")).to_be_focused()
    expect(page.locator("#announcer")).to_contain_text("Saved resource “Lesson notebook”")
    assert page.url.endswith("/tracks/pets/edit/")  # no reload
    assert Resource.objects.get(track__slug="pets", slug="notebook").module.slug == "two"
    assert not page.console_errors
    context.close()


def test_moving_an_item_to_another_module_asks_before_dropping_another_form(browser, live_server):
    world = build(progress=False)
    context, page = signed_in(browser, live_server, world.lead)
    page.goto(f"{live_server.url}/tracks/pets/edit/")
    page.get_by_role("link", name="Edit resource Lesson video").click()
    page.locator("#resource-video").get_by_label("Notes").fill("Half a thought")
    page.get_by_role("link", name="Edit resource Lesson notebook").click()
    row = page.locator("#resource-notebook")
    row.get_by_label("Module").select_option(label="Lesson two")
    answers = []
    page.once("dialog", lambda dialog: (answers.append(dialog.message), dialog.dismiss()))
    row.get_by_role("button", name="Save resource Lesson notebook").click()
    expect(page.locator("#resource-video").get_by_label("Notes")).to_have_value("Half a thought")
    assert answers and "not saved" in answers[0]
    assert Resource.objects.get(track__slug="pets", slug="notebook").module.slug == "one"
    context.close()


def test_move_buttons_that_cannot_move_do_not_look_pressable(browser, live_server):
    """ "Move up" on the first item looked like every other link-button; pressing it only said
    the item was already first."""
    world = build(progress=False)
    context, page = signed_in(browser, live_server, world.lead)
    page.goto(f"{live_server.url}/tracks/pets/edit/")

    def look(name):
        return page.get_by_role("button", name=name).evaluate(
            "b => [getComputedStyle(b).color, getComputedStyle(b).textDecorationLine]"
        )

    first, second = look("Move up Lesson one"), look("Move up Lesson two")
    assert first[1] == "none" and second[1] == "underline"
    assert first[0] != second[0]
    assert look("Move down Lesson two")[1] == "none"
    context.close()


def test_archiving_a_capstone_with_waiting_work_says_so_in_its_dialog(browser, live_server):
    """The dialog said only that learners keep their progress: nothing of the submissions
    waiting for review, which stay in the queue and can no longer be sent back."""
    from curriculum.models import Capstone
    from tests.factories import UserFactory, enrol
    from tracker import services as tracker_services

    world = build(progress=False)
    final = Capstone.objects.get(track=world.track, slug="final")
    for title, submit in (("Waiting work", True), ("A draft", False)):
        learner = enrol(UserFactory(), world.track)
        save = (
            tracker_services.capstone_submit
            if submit
            else tracker_services.capstone_submission_save
        )
        save(
            learner=learner,
            capstone=final,
            title=title,
            link="",
            writeup="Done.",
            constraints_met=[],
        )
    context, page = signed_in(browser, live_server, world.lead)
    page.goto(f"{live_server.url}/tracks/pets/edit/")
    archive = page.get_by_role("button", name="Archive capstone Final project")
    answers = []
    page.once("dialog", lambda dialog: (answers.append(dialog.message), dialog.dismiss()))
    archive.click()
    expect(archive).to_be_visible()
    assert answers == [
        "Archive Final project? 1 submission is waiting for review: it stays in the review "
        "queue, marked as from a removed capstone, and can still be passed (not sent back for "
        "changes). 1 draft (not submitted yet, or sent back for changes): its learner can still "
        "read it but no longer edit or submit it. Learners keep their work, reviews and points "
        "on it, and you can restore it."
    ]
    assert Capstone.objects.get(pk=final.pk).archived_at is None  # dismissed: nothing changed

    page.once("dialog", lambda dialog: dialog.accept())
    archive.click()
    expect(page.get_by_role("button", name="Restore capstone Final project")).to_be_focused()
    assert Capstone.objects.get(pk=final.pk).archived_at is not None
    page.goto(f"{live_server.url}/lead/reviews/")
    expect(page.get_by_test_id("capstone-removed")).to_have_text("Removed from the track")
    assert not page.console_errors


@pytest.mark.parametrize("javascript", [True, False])
def test_a_published_date_is_kept_as_typed_and_refused_with_what_to_write(
    browser, live_server, javascript
):
    """The field cut "29 January 2018" to "29 January" as it was typed (maxlength 10), and the
    error quoted the cut text."""
    world = build(progress=False)
    context, page = signed_in(browser, live_server, world.lead, javascript=javascript)
    page.goto(f"{live_server.url}/tracks/pets/edit/track/")
    page.get_by_label("Source: title").fill("Dabbling")
    published = page.get_by_label("Source: published")
    published.press_sequentially("29 January 2018")
    expect(published).to_have_value("29 January 2018")
    page.get_by_role("button", name="Save track details").click()
    expect(page.get_by_test_id("error-source_published")).to_have_text(
        "Enter a full date written YYYY-MM-DD, such as 2018-01-29, not text '29 January 2018'."
    )
    expect(page.get_by_label("Source: published")).to_have_value("29 January 2018")
    page.get_by_label("Source: published").fill("2018-01-29")
    page.get_by_role("button", name="Save track details").click()
    expect(page.get_by_test_id("outline-source")).to_contain_text("Dabbling")
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_what_was_done_shows_next_to_the_item_on_screen(browser, live_server, javascript):
    """After a move, an archive or a restore the message was at the top of the outline, often
    off screen: a sighted lead did not see it (screen readers heard it)."""
    world = build(progress=False)
    context, page = signed_in(browser, live_server, world.lead, javascript=javascript)
    page.set_viewport_size({"width": 900, "height": 420})
    page.goto(f"{live_server.url}/tracks/pets/edit/")
    page.on("dialog", lambda dialog: dialog.accept())  # "Archive A paper?"

    page.get_by_role("button", name="Archive resource A paper").click()
    notice = page.locator("#archived-resource-paper").get_by_test_id("notice")
    expect(notice).to_have_text("Archived resource “A paper”.")
    expect(notice).to_be_in_viewport()
    if javascript:  # said once, in the page's one live region
        expect(page.locator("#announcer")).to_have_text("Archived resource “A paper”.")

    page.get_by_role("button", name="Restore resource A paper").click()
    notice = page.locator("#resource-paper").get_by_test_id("notice")
    expect(notice).to_have_text("Restored resource “A paper”.")
    expect(notice).to_be_in_viewport()

    page.get_by_role("button", name="Move up Lesson two").click()
    notice = page.locator("#module-two").get_by_test_id("notice")
    expect(notice).to_have_text("Moved “Lesson two” up.")
    expect(notice).to_be_in_viewport()
    if javascript:
        expect(page.locator("#announcer")).to_have_text("Moved “Lesson two” up.")
    expect(page.get_by_test_id("notice")).to_have_count(1)
    expect(page.locator(".messages")).to_have_count(0)
    assert not page.console_errors, page.console_errors
    context.close()
