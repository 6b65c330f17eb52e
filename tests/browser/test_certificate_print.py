"""The certificate prints on one A4 landscape page, without navigation or controls."""

import re

import pytest

from tests.browser.session import log_in
from tests.factories import ModuleFactory, ResourceFactory
from tests.tracker.test_capstones import GOOD, enrolled_learner, make_capstone, staff
from tracker import services
from tracker.models import Certificate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def earn_certificate(*, first_name: str, last_name: str, track_title: str) -> Certificate:
    module = ModuleFactory(track__title=track_title)
    resource = ResourceFactory(module=module)
    capstone = make_capstone(module=module)
    learner = enrolled_learner(capstone, first_name=first_name, last_name=last_name)
    services.progress_set_status(learner=learner, resource=resource, status="done")
    submission = services.capstone_submit(learner=learner, capstone=capstone, **GOOD)
    services.capstone_review(
        via="admin", reviewer=staff(), submission=submission, decision="passed", comments=""
    )
    return Certificate.objects.get(learner=learner)


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.mark.parametrize(
    ("first_name", "last_name", "track_title"),
    [
        ("Ada", "Lovelace", "Deep Learning from Scratch"),
        # The longest names the snapshot columns hold must still fit the one page.
        (
            "Maximiliana" * 2,
            "Wolfeschlegelsteinhausenbergerdorff " * 4,
            "A very long track title " * 8,
        ),
    ],
)
def test_certificate_prints_on_one_a4_landscape_page(
    live_server, page, first_name, last_name, track_title
):
    certificate = earn_certificate(
        first_name=first_name, last_name=last_name, track_title=track_title.strip()
    )
    page.goto(live_server.url + certificate.get_absolute_url())
    assert page.get_by_test_id("certificate-name").is_visible()
    assert (
        page.locator(".site-header").is_visible() and page.locator(".certificate-help").is_visible()
    )

    page.emulate_media(media="print")
    assert page.get_by_test_id("certificate-name").is_visible()
    assert page.locator(".certificate-verify").is_visible()
    for hidden in (".site-header", ".site-footer", ".certificate-help"):
        assert not page.locator(hidden).is_visible(), hidden

    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf_pages(pdf) == 1
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


@pytest.mark.parametrize("javascript", [True, False])
def test_a_learner_submits_a_capstone_and_receives_the_certificate(
    live_server, browser, javascript
):
    context = browser.new_context(
        java_script_enabled=javascript, viewport={"width": 360, "height": 800}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    module = ModuleFactory(track__title="Small track")
    capstone = make_capstone(module=module)
    learner = enrolled_learner(capstone, first_name="Grace", last_name="Hopper")
    log_in(page, live_server, learner)
    page.goto(f"{live_server.url}/tracks/{capstone.track.slug}/capstones/{capstone.slug}/")

    page.get_by_label("Title").fill("Digit classifier")
    page.get_by_label("Link").fill("ftp://example.com/nope")
    page.get_by_role("button", name="Submit for review").click()
    assert page.locator("#link-errors").inner_text() == "Use an http:// or https:// link"
    assert (
        "Tick “Only PyTorch, TensorFlow or MXNet”"
        in page.locator("#constraints-errors").inner_text()
    )

    page.get_by_label("Link").fill("https://github.com/grace/digits")
    page.get_by_label("Write-up").fill("<script>document.title='pwned'</script>It **works**.")
    page.get_by_label("Only PyTorch, TensorFlow or MXNet").check()
    page.get_by_label("Written up in a notebook").check()
    page.get_by_role("button", name="Submit for review").click()
    assert "Submitted for review" in page.locator(".messages").inner_text()
    assert page.locator(".status-pill").inner_text() == "Submitted"
    assert page.title() != "pwned" and page.locator(".writeup strong").inner_text() == "works"

    submission = learner.capstone_submissions.get()
    services.capstone_review(
        via="admin", reviewer=staff(), submission=submission, decision="passed", comments="Great."
    )
    page.reload()
    assert "Passed" in page.locator(".capstone-passed").inner_text()
    page.get_by_role("link", name="view your certificate").click()
    assert page.get_by_test_id("certificate-name").inner_text() == "Grace Hopper"
    assert page.get_by_test_id("certificate-track").inner_text() == "Small track"
    context.close()
