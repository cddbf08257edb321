"""The catalog owns its writes (architecture.md, invariant 7): outside apps/catalog/, no code
creates, updates or deletes catalog rows through their models; it calls catalog services."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOG_MODELS = {"Project", "Release", "Distribution", "JournalEntry"}
WRITES = {
    "create", "get_or_create", "update_or_create", "update", "delete", "bulk_create",
    "bulk_update", "save",
}  # fmt: skip


def catalog_writes(source: str) -> list[str]:
    """``Model.objects....write(...)`` calls on catalog models imported into the module."""
    tree = ast.parse(source)
    models: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("apps.catalog"):
            models |= {a.asname or a.name for a in node.names if a.name in CATALOG_MODELS}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr not in WRITES:
                continue
            base = node.func.value
            while isinstance(base, ast.Call | ast.Attribute):
                base = base.func if isinstance(base, ast.Call) else base.value
            if isinstance(base, ast.Name) and base.id in models:
                found.append(f"line {node.lineno}: {base.id}....{node.func.attr}()")
    return found


def test_no_app_but_the_catalog_writes_catalog_rows():
    offenders = {}
    for path in sorted((ROOT / "apps").rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[1] == "catalog" or "migrations" in relative.parts:
            continue
        if found := catalog_writes(path.read_text()):
            offenders[str(relative)] = found
    assert offenders == {}


def test_the_check_catches_a_write_outside_the_catalog():
    source = (
        "from apps.catalog.models import Distribution as D, Project\n"
        "Project.objects.filter(name='x').update(status='deleted')\n"
        "D.objects.create(filename='x')\n"
        "Project.objects.filter(name='x').first()\n"
    )
    assert catalog_writes(source) == [
        "line 2: Project....update()",
        "line 3: D....create()",
    ]
