"""The one atomic writer: results appear whole or not at all, with the user's usual permissions."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stancekit import files
from stancekit.files import atomic_folder, atomic_output, atomic_write_text, current_umask, publish

from conftest import cli_env


class Boom(Exception):
    pass


def test_a_file_appears_whole_with_the_usual_permissions(tmp_path):
    target = tmp_path / "new" / "out.txt"
    atomic_write_text(target, "written\n")
    assert target.read_text() == "written\n"
    assert target.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_an_exception_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(Boom):
        with atomic_output(target, binary=True) as handle:
            handle.write(b"half of the new")
            raise Boom
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    with pytest.raises(Boom), atomic_output(tmp_path / "never.txt") as handle:
        handle.write("x")
        raise Boom
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_folder_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "model"
    with atomic_folder(target) as staging:
        (staging / "sub").mkdir()
        (staging / "sub" / "weights").write_bytes(b"w")
        assert not target.exists()
    assert (target / "sub" / "weights").read_bytes() == b"w"
    assert target.stat().st_mode & 0o777 == 0o777 & ~current_umask()
    with pytest.raises(Boom), atomic_folder(tmp_path / "broken") as staging:
        (staging / "part").write_text("x")
        raise Boom
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_folder_is_installed_by_the_callers_move(tmp_path):
    moved = []

    def install(staging, path):
        moved.append(sorted(p.name for p in staging.iterdir()))
        staging.rename(path)

    with atomic_folder(tmp_path / "out", install=install) as staging:
        (staging / "a").write_text("a")
    assert moved == [["a"]] and (tmp_path / "out" / "a").read_text() == "a"


def test_publish_replaces_the_destination_in_one_step(tmp_path):
    (tmp_path / "out.partial").write_text("new")
    (tmp_path / "out").write_text("old")
    publish(tmp_path / "out.partial", tmp_path / "out")
    assert (tmp_path / "out").read_text() == "new" and not (tmp_path / "out.partial").exists()


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_the_umask_is_read_without_changing_it(mask):
    code = (f"import os; os.umask({mask}); from stancekit.files import current_umask; "
            "print(current_umask(), os.umask(0))")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), check=True)
    assert process.stdout.split() == [str(mask), str(mask)]


def test_the_umask_is_read_off_a_new_file_where_proc_is_missing(monkeypatch):
    expected = current_umask()
    real_open = open

    def no_proc(path, *args, **kwargs):
        if str(path).startswith("/proc/"):
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(files, "open", no_proc, raising=False)
    assert current_umask() == expected
    mask = os.umask(expected)  # unchanged by the fallback
    assert mask == expected
