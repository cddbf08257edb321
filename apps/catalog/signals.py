"""What the catalog tells other apps without knowing them."""

from django.dispatch import Signal

# Sent with project, previous and source (keys) once staff hand a project to another source:
# the new source must sync it afresh, whatever it recorded of the project before.
project_source_changed = Signal()

# Sent with project and takedown once a takedown is lifted (takedowns.py): the project's source
# must read it afresh at its next sync, whatever it recorded while the takedown stood.
takedown_lifted = Signal()
