"""manage.py lookup_hash --field phone < value: the keyed hash a look-up of that value was
recorded under, for GET /api/reveal-events/?kind=lookup&value_hash=…. The value is read from
standard input, never from the command line (it would stand in the shell history and the
process list)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from backend.common.exceptions import ApplicationError
from backend.customers.lookups import LOOKUP_FIELDS, lookup_hash_of


class Command(BaseCommand):
    help = "Print the look-up hash of the value read from standard input."

    def add_arguments(self, parser):
        parser.add_argument("--field", required=True, choices=LOOKUP_FIELDS)

    def handle(self, *args, **options):
        value = sys.stdin.readline().rstrip("\r\n")
        try:
            self.stdout.write(lookup_hash_of(field=options["field"], value=value))
        except ApplicationError as exc:
            messages = [m for msgs in exc.field_errors.values() for m in msgs] or [exc.message]
            raise CommandError("; ".join(messages)) from None
