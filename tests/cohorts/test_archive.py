"""Archiving a cohort that is over (its admins, from the settings page) and restoring it
(staff): who still sees it, and what stops working."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cohorts import services
from cohorts.models import Cohort
from tests.factories import UserFactory

from .conftest import join

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def test_an_admin_archives_a_cohort_after_ticking_that_it_is_over(client, cohort, admin):
    member = UserFactory()
    join(cohort, member)
    invite = services.invite_create(by=admin, cohort=cohort)
    settings_url = reverse("cohorts:settings", args=[cohort.slug])
    page = signed_in(client, admin).get(settings_url).content.decode()
    assert "Archive Spring cohort" in page and "Yes, Spring cohort is over" in page

    refused = client.post(reverse("cohorts:settings_archive", args=[cohort.slug]), {})
    assert refused.status_code == 400
    assert "Tick the box to confirm that the cohort is over." in refused.content.decode()
    assert Cohort.objects.get(pk=cohort.pk).archived_at is None

    done = client.post(
        reverse("cohorts:settings_archive", args=[cohort.slug]), {"confirm": "on"}, follow=True
    )
    # At the list's content: without an anchor of its own, the redirect kept the form's #archive.
    assert done.redirect_chain[-1][0] == reverse("cohorts:list") + "#main"
    page = done.content.decode()
    assert "Spring cohort is archived" in page and 'data-testid="cohort-row"' not in page
    assert Cohort.objects.get(pk=cohort.pk).archived_at is not None
    # A second click (or Back and resubmit) says so, where it answered "Page not found".
    again = client.post(
        reverse("cohorts:settings_archive", args=[cohort.slug]), {"confirm": "on"}, follow=True
    )
    assert again.redirect_chain[-1][0] == reverse("cohorts:list") + "#main"
    assert "Spring cohort is archived already." in again.content.decode()
    # Gone for its admins and members; its invites let nobody in.
    assert client.get(settings_url).status_code == 404
    outsider = UserFactory()  # who never ran it learns nothing of it
    assert (
        signed_in(client, outsider)
        .post(reverse("cohorts:settings_archive", args=[cohort.slug]), {"confirm": "on"})
        .status_code
        == 404
    )
    signed_in(client, admin)
    signed_in(client, member)
    assert client.get(reverse("cohorts:home", args=[cohort.slug])).status_code == 404
    assert "Spring cohort" not in client.get(reverse("tracker:dashboard")).content.decode()
    with pytest.raises(services.InviteUnusable):
        services.cohort_join(user=UserFactory(), code=invite.code)


def test_staff_see_an_archived_cohort_and_restore_it(client, cohort, admin, staff):
    services.cohort_archive(by=admin, cohort=cohort)
    page = signed_in(client, staff).get(reverse("cohorts:list")).content.decode()
    assert "Spring cohort" in page and "Archived" in page
    settings_url = reverse("cohorts:settings", args=[cohort.slug])
    page = client.get(settings_url).content.decode()
    assert 'data-testid="archived-notice"' in page and "Restore Spring cohort" in page
    assert "Archive Spring cohort" not in page

    done = client.post(reverse("cohorts:settings_restore", args=[cohort.slug]), follow=True)
    assert done.redirect_chain[-1][0] == settings_url
    assert "Spring cohort is restored" in done.content.decode()
    assert Cohort.objects.get(pk=cohort.pk).archived_at is None
    assert signed_in(client, admin).get(settings_url).status_code == 200


def test_only_the_cohort_admins_and_staff_archive_and_only_staff_restore(cohort, admin):
    member = UserFactory()
    join(cohort, member)
    with pytest.raises(services.NotAllowed):
        services.cohort_archive(by=member, cohort=cohort)
    with pytest.raises(services.NotAllowed):
        services.cohort_archive(by=UserFactory(), cohort=cohort)
    archived = services.cohort_archive(by=admin, cohort=cohort)
    when = archived.archived_at
    assert services.cohort_archive(by=admin, cohort=archived).archived_at == when  # no change
    with pytest.raises(services.NotAllowed):
        services.cohort_restore(by=admin, cohort=archived)
    assert Cohort.objects.get(pk=cohort.pk).archived_at == when


def test_a_member_gets_403_on_archive_and_restore(client, cohort):
    member = UserFactory()
    join(cohort, member)
    signed_in(client, member)
    for name in ("cohorts:settings_archive", "cohorts:settings_restore"):
        assert client.post(reverse(name, args=[cohort.slug]), {"confirm": "on"}).status_code == 403
    assert Cohort.objects.get(pk=cohort.pk).archived_at is None
