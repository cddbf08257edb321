from django.core.management.base import BaseCommand

from apps.index.documents.services import index_documents_refresh


class Command(BaseCommand):
    help = (
        "Bring the whole-index documents (/simple/, list_packages_with_serial) up to the "
        "catalog's serial, rendering them from scratch when there are none: ahead of the first "
        "request after a deployment, which would otherwise wait for it."
    )

    def handle(self, *args, **options) -> None:
        manifest = index_documents_refresh()
        self.stdout.write(
            f"Index documents at serial {manifest.serial}: "
            f"{sum(s.count for s in manifest.segments):,} projects "
            f"in {len(manifest.segments):,} segments."
        )
