"""`manage.py load_curriculum` as a person runs it: exit codes, stdout's last line, stderr."""

from __future__ import annotations

import ctypes
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

from curriculum.models import Resource, Track

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TRACK = """\
track:
  slug: demo
  title: Demo
  modules:
    - slug: one
      title: One
      resources:
        - slug: a
          title: A
          kind: video
        - slug: b
          title: B
          kind: quiz
"""


def command(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("load_curriculum", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_load_prints_the_summary_as_last_line(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(TRACK)
    code, out, err = command(str(path))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "created 4, updated 0, archived 0, unchanged 0"
    code, out, _ = command(str(tmp_path))
    assert out.splitlines()[-1] == "created 0, updated 0, archived 0, unchanged 4"


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(TRACK)
    code, out, _ = command("--dry-run", str(path))
    assert code == 0
    assert out.splitlines() == [
        "create track demo",
        "create module demo/one",
        "create resource demo/a",
        "create resource demo/b",
        "dry run: 1 files, nothing written",
        "created 4, updated 0, archived 0, unchanged 0",
    ]
    assert not Track.objects.exists()


def test_check_validates_and_writes_nothing(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(TRACK)
    code, out, _ = command("--check", str(path))
    assert code == 0
    assert out.splitlines() == [
        "ok: 1 files, 1 tracks valid; nothing written",
        "created 4, updated 0, archived 0, unchanged 0",
    ]
    assert not Track.objects.exists()


def test_prune_archives_tracks_not_given(tmp_path):
    (tmp_path / "demo.yaml").write_text(TRACK)
    other = tmp_path / "other" / "other.yaml"
    other.parent.mkdir()
    other.write_text(TRACK.replace("slug: demo", "slug: other"))
    command(str(tmp_path / "demo.yaml"), str(other))
    code, out, _ = command("--prune", str(other))
    assert out.splitlines()[-1] == "created 0, updated 0, archived 1, unchanged 4"
    assert Track.objects.get(slug="demo").archived_at is not None
    assert Resource.objects.filter(track__slug="demo").count() == 2


def test_errors_go_to_stderr_one_a_line_and_exit_1(tmp_path):
    (tmp_path / "a.yaml").write_text(TRACK.replace("kind: video", "kind: vid"))
    (tmp_path / "b.yaml").write_text(
        TRACK.replace("slug: demo", "slug: other").replace("title: B", "titel: B")
    )
    code, out, err = command(str(tmp_path))
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        f"{tmp_path}/a.yaml:10:17: module 1 (`one`), resource 1 (`a`): `kind` must be one of "
        "video, course, chapter, article, paper, book, notebook, exercise, talk, quiz, other, "
        "track, not 'vid' (did you mean 'video'?)",
        f"{tmp_path}/b.yaml:11:11: module 1 (`one`), resource 2 (`b`): `title` is missing: add a "
        "`title:` line (every resource needs one)",
        f"{tmp_path}/b.yaml:12:11: module 1 (`one`), resource 2 (`b`): `titel` is not a key of a "
        "resource: did you mean `title`? (its keys: slug, title, kind, track, url, minutes, "
        "points, optional, filled_in, choice, notes)",
    ]
    assert not Track.objects.exists()


def test_errors_name_items_by_place_from_1_and_slug(tmp_path):
    """The second module's third resource is "module 2 (`two`), resource 3 (`c3`)", never
    `track.modules[1].resources[2]`; an item whose slug is itself wrong is named by place."""
    second = (
        "    - slug: two\n"
        "      title: Two\n"
        "      resources:\n"
        "        - {slug: c1, title: C1, kind: video}\n"
        "        - {slug: c2, title: C2, kind: video}\n"
        "        - {slug: c3, title: C3, kind: video, minutes: an hour}\n"
        "    - slug: Three_Steps\n"
        "      title: Three\n"
    )
    path = tmp_path / "demo.yaml"
    path.write_text(TRACK + second)
    code, out, err = command(str(path))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{path}:19:55: module 2 (`two`), resource 3 (`c3`): `minutes` must be a whole number "
        "from 0 to 10000, not text 'an hour'",
        f"{path}:20:13: module 3: `slug` must use only lowercase letters a-z, digits and "
        "hyphens: write 'three-steps' instead of 'Three_Steps'",
    ]
    assert "[" not in err and not Track.objects.exists()


def test_missing_path_is_a_clean_error(tmp_path):
    code, out, err = command(str(tmp_path / "missing.yaml"))
    assert (code, out) == (1, "")
    assert err == f"{tmp_path}/missing.yaml:1:1: no such file or folder: check the path\n"


def _without_root_file_access() -> None:
    """In the child, before exec: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the
    bounding set, so root obeys file modes like anyone else."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def test_unreadable_file_is_a_clean_error():
    """As root (CI and these machines) chmod 0 stops nothing, so the command runs without
    root's right to bypass file modes."""
    folder = Path(tempfile.mkdtemp(prefix="waymark-unreadable-"))
    try:
        folder.chmod(0o777)
        path = folder / "locked.yaml"
        path.write_text(TRACK)
        path.chmod(0)
        as_plain_user = {"preexec_fn": _without_root_file_access} if os.geteuid() == 0 else {}
        result = subprocess.run(
            [sys.executable, "manage.py", "load_curriculum", str(path)],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": f"sqlite:///{folder}/unused.sqlite3",
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "HOME": str(folder),
            },
            capture_output=True,
            text=True,
            timeout=60,
            **as_plain_user,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        f"{path}:1:1: cannot read the file (Permission denied): check that it exists and that "
        "you may read it\n"
    )


def test_a_real_process_never_prints_a_traceback(tmp_path):
    """Run manage.py itself: no database is touched before the files are valid."""
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"track:\n  slug: x\n  title: \xff\n")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/unused.sqlite3",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "load_curriculum", str(bad), str(tmp_path / "gone")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "CommandError" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{bad}:3:10: the file is not UTF-8 (byte 0xff here): save it as UTF-8",
        f"{tmp_path}/gone:1:1: no such file or folder: check the path",
    ]
