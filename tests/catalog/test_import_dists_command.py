import pytest
from django.core.management import CommandError, call_command

from apps.catalog.models import Distribution
from tests.support.dists import build_chain

pytestmark = pytest.mark.django_db


def test_imports_a_folder_and_prints_a_summary(tmp_path, capsys):
    build_chain(tmp_path, length=3)
    call_command("import_dists", str(tmp_path))
    assert "6 added, 0 already present, 0 failed" in capsys.readouterr().out
    assert Distribution.objects.count() == 6


def test_a_bad_file_exits_1_after_importing_the_rest(tmp_path, capsys):
    build_chain(tmp_path, length=2)
    (tmp_path / "broken-1.0.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(CommandError) as excinfo:
        call_command("import_dists", str(tmp_path))
    assert excinfo.value.returncode == 1
    captured = capsys.readouterr()
    assert "broken-1.0.tar.gz" in captured.err
    assert "4 added, 0 already present, 1 failed" in captured.out
    assert Distribution.objects.count() == 4


def test_a_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file or folder"):
        call_command("import_dists", str(tmp_path / "nope"))
