from django.apps import AppConfig


class ReplicationConfig(AppConfig):
    name = "apps.replication"
    verbose_name = "Replication"

    def ready(self) -> None:
        from apps.catalog.signals import project_source_changed, takedown_lifted
        from apps.catalog.sources import source_provider_register

        from .receivers import project_handed_over, project_taken_down_lifted, run_reported_to_hub
        from .selectors import upstream_sources
        from .signals import sync_run_finished

        source_provider_register(upstream_sources)
        project_source_changed.connect(project_handed_over, dispatch_uid="replication-handover")
        takedown_lifted.connect(project_taken_down_lifted, dispatch_uid="replication-lift")
        sync_run_finished.connect(run_reported_to_hub, dispatch_uid="replication-hub-report")
