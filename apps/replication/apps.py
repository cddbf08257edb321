from django.apps import AppConfig


class ReplicationConfig(AppConfig):
    name = "apps.replication"
    verbose_name = "Replication"
