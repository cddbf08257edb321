from django.apps import AppConfig


class IndexConfig(AppConfig):
    name = "apps.index"
    verbose_name = "Index"

    def ready(self) -> None:
        from apps.replication.signals import sync_run_finished

        from .receivers import index_documents_after_run

        sync_run_finished.connect(index_documents_after_run, dispatch_uid="index-documents")
