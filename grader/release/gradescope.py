"""Gradescope's ``autograder.zip``, laid out as its autograder specification asks: one per assignment by default.

At the root of the zip: ``setup.sh`` (run once, as root, to build the image) and ``run_autograder`` (run for each
submission from ``/autograder``; it must write ``/autograder/results/results.json``). Gradescope unpacks the zip into
``/autograder/source`` and puts the student's files in ``/autograder/submission``. Beside the scripts: grader's wheel,
``constraints.txt`` and ``course/`` (the zip's assignments with their hidden tests, their references, the seeded
course.toml): the zip stays on Gradescope's servers and students never see it.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from grader.release.contents import course_files
from grader.release.resources import render, template_text
from grader.release.wheel import constraints_file, copy_wheel
from grader.spec import Course, Visibility

EXECUTABLE = 0o100755 << 16  # a regular file, rwxr-xr-x, in the zip entry's Unix attributes


def add_script(archive: zipfile.ZipFile, name: str, text: str) -> None:
    """Add an executable script: Gradescope runs ``run_autograder`` directly, so it needs its x bit."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = EXECUTABLE
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def write_zip(course: Course, names: list[str], path: Path, wheel: Path, visibility: Visibility | None) -> Path:
    """Write the autograder of assignments ``names`` to ``path``; ``visibility``: every test's and the result's,
    instead of each assignment.toml's ``[gradescope]``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        add_script(archive, "setup.sh", template_text("gradescope-setup.sh"))
        add_script(archive, "run_autograder", render("gradescope-run_autograder.sh.j2", visibility=visibility))
        archive.write(wheel, wheel.name, zipfile.ZIP_DEFLATED)
        archive.write(constraints_file(), "constraints.txt", zipfile.ZIP_DEFLATED)
        for file in course_files(course, names):
            archive.write(file, f"course/{file.relative_to(course.root)}", zipfile.ZIP_DEFLATED)
    return path


def write_autograders(
    course: Course, names: list[str], out: Path, wheel: Path | None, visibility: Visibility | None, single: bool
) -> list[Path]:
    """``out/<name>/autograder.zip`` for each assignment of ``names`` (one Gradescope assignment each), or with
    ``single`` one ``out/autograder.zip`` grading them all; the zips written."""
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as tmp:
        shipped = copy_wheel(wheel, Path(tmp))
        if single:
            return [write_zip(course, names, out / "autograder.zip", shipped, visibility)]
        return [write_zip(course, [name], out / name / "autograder.zip", shipped, visibility) for name in names]
