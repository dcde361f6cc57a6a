"""manage.py import_customers FILE --user officer.sz: import a legacy CSV/XLSX file now."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from backend.common.exceptions import ApplicationError
from backend.integrations.imports import import_batch_create, import_batch_run


class Command(BaseCommand):
    help = "Import a legacy customer file (CSV in UTF-8 or GBK, or XLSX) with per-row results."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--user", required=True, help="the officer who imports (their branch owns the rows)"
        )

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"unknown user {options['user']}")
        try:
            with open(options["file"], "rb") as fileobj:
                batch = import_batch_create(
                    actor=user, fileobj=fileobj, filename=options["file"].rsplit("/", 1)[-1]
                )
        except OSError as exc:
            raise CommandError(str(exc)) from None
        except ApplicationError as exc:
            raise CommandError(
                "; ".join(m for v in exc.field_errors.values() for m in v) or exc.message
            ) from None
        batch = import_batch_run(batch_id=batch.pk)
        if batch.status != "done":
            raise CommandError(f"import #{batch.pk} failed: {batch.message}")
        self.stdout.write(f"import #{batch.pk}: {batch.processed_rows} rows {batch.counts}")
        self.stdout.write(f"result file: {batch.result_file.path}")
