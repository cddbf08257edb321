"""Real package clients for end-to-end tests: pip, uv and bandersnatch in cached virtualenvs.

Tool venvs are built once from PyPI and kept under ``~/.cache/pypimirror-tests`` (or
``$PYPIMIRROR_TEST_CACHE``), named by a hash of what they hold, so later runs start at once.
Two pytest processes building the same venv at once are serialised by a lock file.

When a client talks to OUR server it runs isolated from the machine's pip and uv configuration
(extra indexes, find-links, constraints), so only our index can satisfy it.
"""

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from glob import glob
from pathlib import Path

CACHE_ROOT = Path(
    os.environ.get("PYPIMIRROR_TEST_CACHE") or Path.home() / ".cache" / "pypimirror-tests"
)
INSTALL_TIMEOUT = 600


class ClientError(RuntimeError):
    pass


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock shared with every process on this machine that locks ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def base_python() -> str:
    """The interpreter the project runs on (the real one behind the project's venv)."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def pyenv_python(minor: str) -> str:
    """``python3.X`` from pyenv (as on the CI machine), or on PATH; fails clearly if absent."""
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        root = subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
    found = sorted(glob(f"{root}/versions/{minor}*/bin/python{minor}"))
    found = found or [p for p in [shutil.which(f"python{minor}")] if p]
    if not found:
        raise ClientError(f"Python {minor} is needed (pyenv install {minor}) and was not found")
    return found[-1]


def registry_env() -> dict[str, str]:
    """The environment for installing tools from the package registry: the machine's own."""
    return dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")


def isolated_env(**extra: str) -> dict[str, str]:
    """An environment in which pip and uv see no configuration but what the test passes."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "PYTHON", "VIRTUAL_ENV", "CONDA"))
        and not key.lower().endswith("_proxy")  # only loopback is reached, never via a proxy
    }
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        NO_PROXY="127.0.0.1,localhost,::1",
        no_proxy="127.0.0.1,localhost,::1",
    )
    env.update(extra)
    return env


def run(
    args: Sequence[str | os.PathLike],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = INSTALL_TIMEOUT,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run a command, capturing its output; on failure the error carries that output."""
    result = subprocess.run(
        [str(a) for a in args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise ClientError(
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return result


@dataclass(frozen=True)
class ToolVenv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name


def cached_venv(name: str, *, python: str, requirements: Sequence[str]) -> ToolVenv:
    """A venv with ``requirements`` installed from PyPI, built once and reused across runs.

    The directory name carries a hash of the interpreter and the requirements, so changing
    either builds a new venv; a venv left half-built by a killed run has no marker and is redone.
    """
    version = run([python, "-c", "import sys; print(sys.version)"]).stdout.strip()
    key = hashlib.sha256("\n".join([python, version, *requirements]).encode()).hexdigest()[:16]
    path = CACHE_ROOT / "venvs" / f"{name}-{key}"
    marker = path / ".pypimirror-complete"
    if marker.exists():
        return ToolVenv(path)
    with file_lock(CACHE_ROOT / "venvs" / f"{name}-{key}.lock"):
        if marker.exists():  # another process built it while this one waited
            return ToolVenv(path)
        shutil.rmtree(path, ignore_errors=True)
        run([python, "-m", "venv", path])
        venv = ToolVenv(path)
        env = registry_env()
        run([venv.python, "-m", "pip", "install", "--upgrade", "pip"], env=env)
        if requirements:
            run([venv.python, "-m", "pip", "install", *requirements], env=env)
        marker.write_text("\n".join(requirements) + "\n")
    return venv


def pip_venv() -> ToolVenv:
    """A recent pip (PEP 658, ``--python``, ``--report``) on the project's Python."""
    return cached_venv("pip", python=base_python(), requirements=["pip>=25"])


def uv_venv() -> ToolVenv:
    return cached_venv("uv", python=base_python(), requirements=["uv>=0.5"])


def bandersnatch8_venv() -> ToolVenv:
    return cached_venv(
        "bandersnatch8", python=pyenv_python("3.12"), requirements=["bandersnatch>=8,<9"]
    )


def bandersnatch6_venv() -> ToolVenv:
    """The last bandersnatch that reads the XML-RPC changelog (6.x needs Python <= 3.11)."""
    return cached_venv(
        "bandersnatch6", python=pyenv_python("3.11"), requirements=["bandersnatch<7"]
    )


def pypiserver_venv() -> ToolVenv:
    """The real pypiserver 2.x: a simple-only (PEP 503) upstream to replicate from."""
    return cached_venv("pypiserver", python=base_python(), requirements=["pypiserver>=2,<3"])


def setuptools_wheel() -> Path:
    """PyPI's setuptools wheel, downloaded once: the build backend our index serves to sdists."""
    directory = CACHE_ROOT / "wheels" / "setuptools"
    marker = directory / ".pypimirror-complete"
    with file_lock(CACHE_ROOT / "wheels" / "setuptools.lock"):
        if not marker.exists():
            shutil.rmtree(directory, ignore_errors=True)
            pip = pip_venv()
            run(
                [
                    *(pip.python, "-m", "pip", "download", "setuptools"),
                    *("--only-binary", ":all:", "--no-deps", "--dest", directory),
                ],
                env=registry_env(),
            )
            marker.touch()
    (wheel,) = directory.glob("setuptools-*.whl")
    return wheel


def new_target_venv(path: Path) -> Path:
    """A fresh, empty venv to install into; returns its python. Cheap: no pip inside."""
    run([base_python(), "-m", "venv", "--without-pip", path])
    return path / "bin" / "python"


def pip_install(
    target_python: Path, *args: str, index_url: str, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """``pip install`` into another venv from our index only, no cache, no user config."""
    pip = pip_venv()
    return run(
        [
            *(pip.python, "-m", "pip", "--isolated", "--python", target_python, "install"),
            *("--no-cache-dir", "--index-url", index_url, *args),
        ],
        env=isolated_env(),
        cwd=cwd,
    )


def uv_pip_install(
    target_python: Path, *args: str, index_url: str, cache_dir: Path
) -> subprocess.CompletedProcess:
    """``uv pip install`` into another venv from our index only, with a cache of its own."""
    uv = uv_venv()
    return run(
        [
            *(uv.bin("uv"), "pip", "install", "--python", target_python),
            *("--index-url", index_url, "--cache-dir", cache_dir, "--no-config", *args),
        ],
        env=isolated_env(),
    )


def bandersnatch_config(
    *, master: str, directory: Path, workers: int = 3, timeout: int = 30, extra: Sequence[str] = ()
) -> str:
    """A bandersnatch config that mirrors everything from ``master`` and talks to nothing else.

    ``proxy`` and ``download-mirror`` stay empty (the defaults) and the run's environment has no
    proxy variables, so every request goes to ``master`` or the file URLs it lists.
    """
    return "\n".join(
        [
            "[mirror]",
            f"directory = {directory}",
            f"master = {master}",
            "allow-non-https = true",
            "json = true",
            f"workers = {workers}",
            f"timeout = {timeout}",
            f"global-timeout = {timeout * 10}",
            "stop-on-error = false",
            "hash-index = false",
            "simple-format = ALL",
            "compare-method = hash",
            "release-files = true",
            *extra,
            "",
        ]
    )


def bandersnatch_mirror(
    venv: ToolVenv, *, config: Path, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``bandersnatch mirror`` once; the result has its exit code and output (not checked)."""
    return run(
        [venv.bin("bandersnatch"), "-c", config, "mirror"],
        env=isolated_env(),
        cwd=config.parent,
        timeout=timeout,
        check=False,
    )
