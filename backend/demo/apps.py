from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data (`seed_demo`) and the demo signing certificates (`demo_certificates`).
    It depends on every app; no app depends on it (an import-linter contract says so)."""

    name = "backend.demo"
    label = "demo"
    verbose_name = "Demo"
