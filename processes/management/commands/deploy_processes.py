from django.core.management.base import BaseCommand

from processes.services import shipped_processes_deploy


class Command(BaseCommand):
    help = "Deploy the shipped diagrams in bpmn/ (idempotent: versions are keyed by content hash)."

    def handle(self, *args, **options):
        for version in shipped_processes_deploy():
            self.stdout.write(f"{version.definition.key} v{version.version} {version.content_hash[:12]}")
