# Sourced by bin/run and bin/test: find Python 3.11+, create .venv, install a requirements file
# when it (or a file it includes) changed since the last install. Needs only Python and git.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PYPIMIRROR_VENV:-$ROOT/.venv}"

_find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3 python3.13 python3.12 python3.11 python; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# venv_ensure REQUIREMENTS_FILE: afterwards "$VENV/bin/python" has everything the file asks for.
venv_ensure() {
    local requirements="$1" python
    if [ ! -x "$VENV/bin/python" ]; then
        if ! python="$(_find_python)"; then
            echo "error: pypimirror needs Python 3.11 or newer (set PYTHON=/path/to/python3)." >&2
            exit 2
        fi
        echo "Creating $VENV with $("$python" --version 2>&1) ..."
        if ! "$python" -m venv "$VENV"; then
            echo "error: could not create a virtualenv; on Debian/Ubuntu install python3-venv." >&2
            rm -rf "$VENV"
            exit 2
        fi
    fi
    if ! "$VENV/bin/python" "$ROOT/bin/_reqstamp.py" check "$requirements"; then
        echo "Installing $requirements into $VENV ..."
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "$ROOT/$requirements" || { echo "error: pip install failed." >&2; exit 2; }
        "$VENV/bin/python" "$ROOT/bin/_reqstamp.py" write "$requirements"
    fi
}

# project_compile: write the project's bytecode, as pip does for the packages it installs. Python
# would write it on first import, but not where PYTHONDONTWRITEBYTECODE is set or the checkout is
# read-only to the service's user: then every process compiles every module it imports (some
# 35 for `manage.py sync`, 5 % of a no-op sync's instructions). Stale bytecode is never used:
# Python compares it with its source's mtime and size.
project_compile() {
    "$VENV/bin/python" -m compileall -q "$ROOT/apps" "$ROOT/pypimirror" "$ROOT/manage.py" >/dev/null
}
