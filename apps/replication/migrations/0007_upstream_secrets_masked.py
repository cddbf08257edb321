"""Before upstream URLs kept their secrets, the credentials of a URL's userinfo could be shown:
in its periodic sync's description (the whole URL) and in the errors stored on runs and project
states (messages naming the URL). Mask them there, as the code now does before storing."""

import json

from django.db import migrations

from apps.replication.redaction import redact_text, redact_url, url_secrets

TASK = "apps.replication.tasks.sync_upstream"


def mask(apps, schema_editor):
    Upstream = apps.get_model("replication", "Upstream")
    SyncRun = apps.get_model("replication", "SyncRun")
    ProjectSyncState = apps.get_model("replication", "ProjectSyncState")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    urls = dict(Upstream.objects.values_list("pk", "url"))
    for task in PeriodicTask.objects.filter(task=TASK):
        try:
            [pk] = json.loads(task.args)
        except (TypeError, ValueError):
            continue
        if pk in urls and task.description != (masked := f"Replicates {redact_url(urls[pk])}."):
            task.description = masked
            task.save(update_fields=["description"])
    for pk, url in urls.items():
        if not (secrets := url_secrets(url)):
            continue
        for run in SyncRun.objects.filter(upstream_id=pk).only("error", "errors").iterator():
            error = redact_text(run.error, secrets)
            errors = [
                {**item, "error": redact_text(str(item.get("error", "")), secrets)}
                if isinstance(item, dict)
                else item
                for item in run.errors
            ]
            if (error, errors) != (run.error, run.errors):
                run.error, run.errors = error, errors
                run.save(update_fields=["error", "errors"])
        states = ProjectSyncState.objects.filter(upstream_id=pk).exclude(last_error="")
        for state in states.only("last_error").iterator():
            if (error := redact_text(state.last_error, secrets)) != state.last_error:
                state.last_error = error
                state.save(update_fields=["last_error"])


class Migration(migrations.Migration):
    dependencies = [
        ("replication", "0006_upstream_rules"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [migrations.RunPython(mask, migrations.RunPython.noop)]
