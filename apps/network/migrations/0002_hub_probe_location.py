"""This hub as a probe location: where its own probes are recorded from."""

from django.db import migrations


def create(apps, schema_editor):
    ProbeLocation = apps.get_model("network", "ProbeLocation")
    if not ProbeLocation.objects.filter(is_hub=True).exists():
        ProbeLocation.objects.get_or_create(
            name="hub", defaults={"is_hub": True, "notes": "Probes run by this hub itself."}
        )


def remove(apps, schema_editor):
    apps.get_model("network", "ProbeLocation").objects.filter(name="hub", is_hub=True).delete()


class Migration(migrations.Migration):
    dependencies = [("network", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
