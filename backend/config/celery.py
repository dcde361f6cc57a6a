import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")

app = Celery("custflow")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _make_broker_folders(sender, **kwargs):
    # kombu's filesystem transport (embedded mode) needs its folders to exist.
    for folder in (sender.conf.broker_transport_options or {}).values():
        if isinstance(folder, str) and folder.startswith("/"):
            os.makedirs(folder, exist_ok=True)
# A *job* is background work; each app keeps its jobs in jobs.py.
app.autodiscover_tasks(related_name="jobs")
