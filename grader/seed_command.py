"""``grader new-seed``: print a course secret for ``assignments/course.toml``."""

from __future__ import annotations

import click

from grader.spec import new_secret


@click.command("new-seed")
def new_seed() -> None:
    """Print a new course secret (128 random bits) as the line to put in assignments/course.toml. Every hidden input
    derives from it: keep it out of anything released, and change it only between terms (old reports then no longer
    reproduce)."""
    click.echo(f'seed = "{new_secret()}"')
