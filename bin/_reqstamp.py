"""Remember which requirements files .venv was installed from, so installs rerun only on change.

``_reqstamp.py check FILE`` exits 0 when FILE and everything it includes (``-r``/``-c``) are
unchanged since ``_reqstamp.py write FILE``; ``write`` stamps FILE and each file it includes.
Stamps live in the venv, so a new venv always installs.
"""

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAMPS = Path(sys.prefix) / "pypimirror-stamps"


def closure(path: Path, seen: list[Path] | None = None) -> list[Path]:
    """The file and, recursively, the requirement and constraint files it includes."""
    seen = [] if seen is None else seen
    path = path.resolve()
    if path in seen:
        return seen
    seen.append(path)
    for line in path.read_text().splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) == 2 and parts[0] in ("-r", "--requirement", "-c", "--constraint"):
            closure(path.parent / parts[1], seen)
    return seen


def digest(path: Path) -> str:
    sha = hashlib.sha256(sys.version.encode())
    for included in closure(path):
        sha.update(f"\0{included.relative_to(ROOT)}\0".encode())
        sha.update(included.read_bytes())
    return sha.hexdigest()


def stamp(path: Path) -> Path:
    return STAMPS / (str(path.resolve().relative_to(ROOT)).replace("/", "__") + ".sha256")


def main(action: str, name: str) -> int:
    path = ROOT / name
    if action == "check":
        current = stamp(path)
        return 0 if current.exists() and current.read_text().strip() == digest(path) else 1
    STAMPS.mkdir(exist_ok=True)
    for included in closure(path):
        stamp(included).write_text(digest(included) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
