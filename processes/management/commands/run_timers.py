from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from processes.sweep import timers_sweep


class Command(BaseCommand):
    help = "Run one timer sweep, optionally as if the time were --at (ISO 8601)."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="ISO 8601 time, e.g. 2026-11-25T10:00:00+08:00")

    def handle(self, *args, **options):
        at = None
        if options.get("at"):
            try:
                at = datetime.fromisoformat(options["at"])
            except ValueError:
                raise CommandError(f"--at is not an ISO 8601 time: {options['at']!r}")
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
        fired = timers_sweep(now=at)
        self.stdout.write(f"fired {fired} timer(s)")
