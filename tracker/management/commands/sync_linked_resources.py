from django.core.management.base import BaseCommand, CommandError

from tracker import services


class Command(BaseCommand):
    help = (
        "Bring enrolled learners' resources of kind track in line with the tracks they stand "
        "for (after adding one to a track learners are in, or changing the track it names)."
    )

    def add_arguments(self, parser):
        parser.add_argument("tracks", nargs="*", help="track slugs (default: every track)")

    def handle(self, *args, **options):
        try:
            checked, changed = services.linked_resources_sync_enrolled(
                track_slugs=options["tracks"] or None
            )
        except services.ServiceError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"checked {checked} enrolments, changed {changed} resources")
