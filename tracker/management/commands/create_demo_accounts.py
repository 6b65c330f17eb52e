from django.core.management.base import BaseCommand

from tracker.demo import CREDENTIALS_FILE, demo_accounts_create


class Command(BaseCommand):
    help = "Create the demo accounts (once). Prints new passwords; they are also kept in var/demo-accounts.txt."

    def handle(self, *args, **options):
        created = demo_accounts_create()
        if not created:
            self.stdout.write(
                f"Demo accounts already exist; their passwords are in {CREDENTIALS_FILE}."
            )
            return
        self.stdout.write("Demo accounts (shown once; also saved in var/demo-accounts.txt):")
        for account, password in created:
            self.stdout.write(f"  {account.email:<32} password: {password:<20} {account.role}")
