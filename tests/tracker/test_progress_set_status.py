import threading

import pytest
from django.db import connection
from django.db.models import Sum

from tests.factories import CapstoneFactory, ModuleFactory, ResourceFactory, UserFactory, enrol
from tracker import services
from tracker.models import PointsEntry, Profile, Progress, ProgressStatus

pytestmark = pytest.mark.django_db


def ledger_total(user) -> int:
    return PointsEntry.objects.filter(learner=user).aggregate(s=Sum("amount"))["s"] or 0


def test_done_awards_points_once_and_undo_reverses(user):
    resource = ResourceFactory(minutes=45)
    enrol(user, resource.track)
    change = services.progress_set_status(
        learner=user, resource=resource, status=ProgressStatus.DONE
    )
    assert change.points_delta == 45
    again = services.progress_set_status(
        learner=user, resource=resource, status=ProgressStatus.DONE
    )
    assert again.points_delta == 0 and not again.changed
    assert ledger_total(user) == 45 == Profile.objects.get(user=user).points_total

    back = services.progress_set_status(
        learner=user, resource=resource, status=ProgressStatus.IN_PROGRESS
    )
    assert back.points_delta == -45
    assert ledger_total(user) == 0 == Profile.objects.get(user=user).points_total
    assert list(PointsEntry.objects.filter(learner=user).values_list("kind", "amount")) == [
        ("award", 45),
        ("reversal", -45),
    ]

    services.progress_set_status(learner=user, resource=resource, status=ProgressStatus.DONE)
    assert ledger_total(user) == 45 == Profile.objects.get(user=user).points_total
    assert Progress.objects.filter(learner=user).count() == 1


def test_skipped_earns_nothing_and_reversal_uses_the_awarded_amount(user):
    resource = ResourceFactory(minutes=30)
    enrol(user, resource.track)
    services.progress_set_status(learner=user, resource=resource, status=ProgressStatus.SKIPPED)
    assert ledger_total(user) == 0
    services.progress_set_status(learner=user, resource=resource, status=ProgressStatus.DONE)
    resource.points = 99  # the lead re-weighted it after the award
    resource.save()
    services.progress_set_status(learner=user, resource=resource, status=ProgressStatus.NOT_STARTED)
    assert ledger_total(user) == 0


def test_the_database_refuses_a_second_award_for_the_same_generation(user):
    resource = ResourceFactory()
    enrol(user, resource.track)
    services.progress_set_status(learner=user, resource=resource, status=ProgressStatus.DONE)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            learner=user,
            kind="award",
            amount=5,
            resource=resource,
            source_key=f"resource:{resource.pk}",
            generation=1,
            created_at=resource.track.created_at,
        )


def test_unknown_status_and_archived_resource_are_refused(user):
    resource = ResourceFactory()
    enrol(user, resource.track)
    with pytest.raises(services.ServiceError, match="Unknown status 'finished'"):
        services.progress_set_status(learner=user, resource=resource, status="finished")
    resource.archived_at = resource.track.created_at
    resource.save()
    with pytest.raises(services.ServiceError, match="removed from its track"):
        services.progress_set_status(learner=user, resource=resource, status=ProgressStatus.DONE)
    assert not Progress.objects.exists()


def test_certificate_issued_when_every_required_item_is_done(user):
    module = ModuleFactory()
    a = ResourceFactory(module=module)
    ResourceFactory(module=module, optional=True)
    c1 = ResourceFactory(module=module, choice="route")
    ResourceFactory(module=module, choice="route")
    enrol(user, module.track)
    assert services.progress_set_status(learner=user, resource=a, status="done").certificate is None
    change = services.progress_set_status(learner=user, resource=c1, status="done")
    assert change.certificate is not None
    assert change.certificate.summary["resources_done"] == 2


def test_capstone_blocks_the_certificate_until_passed(user):
    module = ModuleFactory()
    a = ResourceFactory(module=module)
    CapstoneFactory(module=module)
    enrol(user, module.track)
    assert services.progress_set_status(learner=user, resource=a, status="done").certificate is None


@pytest.mark.django_db(transaction=True)
def test_two_tabs_marking_done_at_once_award_once(require_postgres):
    user = UserFactory()
    resource = ResourceFactory(minutes=25)
    enrol(user, resource.track)
    barrier = threading.Barrier(4)
    errors = []

    def click():
        try:
            barrier.wait()
            services.progress_set_status(
                learner=user, resource=resource, status=ProgressStatus.DONE
            )
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert PointsEntry.objects.filter(learner=user).count() == 1
    assert ledger_total(user) == 25 == Profile.objects.get(user=user).points_total
