"""manage.py audit_verify: every audit stream end to end, against the latest checkpoint.

Exit status 0 when every stream verifies (a new checkpoint is then written, unless
--no-checkpoint); otherwise 1, naming each stream with a gap, an edited event or a missing tail.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from backend.common.audit_checkpoints import audit_verify_and_checkpoint


class Command(BaseCommand):
    help = "Verify every audit stream (HMAC chain) and compare it with the latest signed checkpoint."

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint", help="compare with this checkpoint file instead of the latest one"
        )
        parser.add_argument(
            "--no-checkpoint", action="store_true", help="do not write a new checkpoint after a clean run"
        )

    def handle(self, *args, **options):
        result = audit_verify_and_checkpoint(
            checkpoint_path=options.get("checkpoint"), write=not options["no_checkpoint"]
        )
        against = (
            f" against checkpoint {result.checkpoint.path.name}"
            if result.checkpoint and result.checkpoint.path
            else ""
        )
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(str(problem))
            streams = result.streams_with_problems()
            raise CommandError(
                f"audit trail NOT intact{against}: {len(result.problems)} problem(s) in {len(streams)} stream(s): {', '.join(streams)}",
                returncode=1,
            )
        self.stdout.write(f"audit trail intact{against}: {len(result.heads)} streams, {result.events} events")
