"""Gradescope's ``autograder.zip``, laid out as its autograder specification asks.

At the root of the zip: ``setup.sh`` (run once, as root, to build the image) and ``run_autograder`` (run for each
submission from ``/autograder``; it must write ``/autograder/results/results.json``). Gradescope unpacks the zip into
``/autograder/source`` and puts the student's files in ``/autograder/submission``. Beside the scripts: grader's wheel,
``constraints.txt`` and ``course/`` (hidden tests, references, the seeded course.toml): the zip stays on
Gradescope's servers and students never see it.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from grader.release.contents import course_files
from grader.release.resources import template_text
from grader.release.wheel import checkout_file, copy_wheel
from grader.spec import Course

SCRIPTS = {"setup.sh": "gradescope-setup.sh", "run_autograder": "gradescope-run_autograder.sh"}
EXECUTABLE = 0o100755 << 16  # a regular file, rwxr-xr-x, in the zip entry's Unix attributes


def add_script(archive: zipfile.ZipFile, name: str, text: str) -> None:
    """Add an executable script: Gradescope runs ``run_autograder`` directly, so it needs its x bit."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = EXECUTABLE
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def write_autograder_zip(course: Course, names: list[str], out: Path, wheel: Path | None) -> Path:
    """Write ``out/autograder.zip`` for assignments ``names``; its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "autograder.zip"
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as tmp, zipfile.ZipFile(path, "w") as archive:
        for name, template in SCRIPTS.items():
            add_script(archive, name, template_text(template))
        shipped = copy_wheel(wheel, Path(tmp))
        archive.write(shipped, shipped.name, zipfile.ZIP_DEFLATED)
        archive.write(checkout_file("constraints.txt"), "constraints.txt", zipfile.ZIP_DEFLATED)
        for file in course_files(course, names):
            archive.write(file, f"course/{file.relative_to(course.root)}", zipfile.ZIP_DEFLATED)
    return path
