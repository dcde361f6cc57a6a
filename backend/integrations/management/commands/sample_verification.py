"""manage.py sample_verification [--period YYYY-MM]: draw the month's verification sample."""

from django.core.management.base import BaseCommand

from backend.integrations.verification import sample_verification_run


class Command(BaseCommand):
    help = "Sample last month's (or --period's) new and changed customers per branch for verification calls."

    def add_arguments(self, parser):
        parser.add_argument("--period", default=None)

    def handle(self, *args, **options):
        self.stdout.write(str(sample_verification_run(period=options["period"])))
