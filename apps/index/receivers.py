"""What the index does when other apps tell it something (connected in apps.py)."""


def index_documents_after_run(sender: object, *, run_id: int, **kwargs: object) -> None:
    """A sync run ended: bring the whole-index documents up to its changes now, so that the
    next client does not wait for it (a failure is logged by the signal, and the next client
    updates them)."""
    # Imported here: `manage.py sync` loads this module at start-up, and a no-op sync is
    # mostly start-up.
    from .documents.services import index_documents_refresh

    index_documents_refresh()
