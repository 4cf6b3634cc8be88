"""``grader release``: the click command that writes a student bundle, nbgrader sources, a Gradescope autograder
or an encrypted hidden bundle for the assignments named."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import click

from grader import exits
from grader.options import course_option, visibility_option
from grader.release.errors import ReleaseError
from grader.release.workflows import WORKFLOWS, Workflow
from grader.spec import Course, SpecError, Visibility, default_course

Format = Literal["bundle", "nbgrader", "gradescope"]


def hidden_key(name: str, bundle: Path) -> bytes:
    """The key in ``$name``; else a new one, saved beside the bundle (owner-only) for the instructor to store."""
    from grader.release.hidden import new_key, take_key

    if os.environ.get(name, "").strip():
        return take_key(name)
    key = new_key()
    saved = bundle.with_name(bundle.name + ".key")
    saved.touch(mode=0o600)
    saved.chmod(0o600)  # before the key is in it, even when the file was already there
    saved.write_bytes(key + b"\n")
    click.echo(
        f"new key in {saved}: store it as the repository secret {name}, then delete the file "
        f"(never commit it); the next release reads it from ${name}",
        err=True,
    )
    return key


@click.command()
@click.argument("assignments", nargs=-1, metavar="[ASSIGNMENT]...")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write the release here (a new folder for a bundle; the nbgrader course or the zip's folder otherwise).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["bundle", "nbgrader", "gradescope"]),
    default="bundle",
    show_default=True,
    help="bundle: the students' folder; nbgrader: source/<name>/<name>.ipynb; gradescope: <name>/autograder.zip.",
)
@click.option(
    "--workflow",
    type=click.Choice(list(WORKFLOWS)),
    default="classroom",
    show_default=True,
    help="The bundle's CI: classroom (a student repository runs the public tests) or course (pull requests to the "
    "course repository are graded with the hidden tests).",
)
@click.option(
    "--hidden-bundle",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the encrypted hidden tests, references and seed here, for grader ci --hidden-bundle.",
)
@click.option(
    "--key-env",
    default="GRADER_HIDDEN_KEY",
    show_default=True,
    metavar="NAME",
    help="The environment variable holding the hidden bundle's key; a new key is made when it is unset.",
)
@click.option(
    "--wheel",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The grader wheel to ship; default: build one from the checkout grader runs from.",
)
@click.option(
    "--single-zip",
    is_flag=True,
    help="gradescope: one DIR/autograder.zip grading all the assignments named, instead of DIR/<name>/autograder.zip "
    "for each.",
)
@click.option(
    "--force",
    is_flag=True,
    help="nbgrader: overwrite source notebooks edited since grader released them (refused otherwise).",
)
@visibility_option
@course_option
def release(
    assignments: tuple[str, ...],
    out: Path | None,
    fmt: Format,
    workflow: Workflow,
    hidden_bundle: Path | None,
    key_env: str,
    wheel: Path | None,
    single_zip: bool,
    force: bool,
    visibility: Visibility | None,
    course: Path | None,
) -> None:
    """Release ASSIGNMENTs (default: all of the course's) to students, nbgrader or Gradescope."""
    if out is None and hidden_bundle is None:
        raise click.UsageError("give --out DIR, --hidden-bundle FILE, or both")
    if (single_zip or visibility) and fmt != "gradescope":
        exits.fail("--single-zip and --visibility go with --format gradescope")
    if force and fmt != "nbgrader":
        exits.fail("--force goes with --format nbgrader (a bundle is always written to a new folder)")
    # here, not at the top: nbformat and cryptography would slow every other command's start-up
    from grader.release.bundle import write_bundle
    from grader.release.gradescope import write_autograders
    from grader.release.hidden import write_hidden_bundle
    from grader.release.nbgrader import write_nbgrader_course

    try:
        loaded = Course(course) if course else default_course()
        names = [loaded.assignment(name).name for name in assignments] or list(loaded.assignments)
        if out is not None:
            if fmt == "bundle":
                written = write_bundle(loaded, names, out, wheel, workflow)
                click.echo(f"student bundle of {', '.join(names)} in {out} ({len(written)} files)", err=True)
            elif fmt == "nbgrader":
                done = write_nbgrader_course(loaded, names, out, force)
                for line in done.skipped:
                    click.echo(line, err=True)
                for path in done.written:
                    click.echo(f"nbgrader course: wrote {path}", err=True)
                for path in done.unchanged:
                    click.echo(f"nbgrader course: {path} is already as grader writes it", err=True)
                if done.config_kept:
                    click.echo(f"nbgrader course: kept your {out / 'nbgrader_config.py'}", err=True)
                click.echo(f"next, in {out}: nbgrader generate_assignment NAME (NAME: {' '.join(names)})", err=True)
            else:
                for path in write_autograders(loaded, names, out, wheel, visibility, single_zip):
                    click.echo(f"Gradescope autograder: {path}", err=True)
        if hidden_bundle is not None:
            write_hidden_bundle(loaded, names, hidden_bundle, hidden_key(key_env, hidden_bundle))
            click.echo(f"encrypted hidden bundle of {', '.join(names)}: {hidden_bundle}", err=True)
    except (ReleaseError, SpecError) as error:
        exits.fail(str(error))
