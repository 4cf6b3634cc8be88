"""The instructor's summary of a class: how scores spread, which tasks and mistakes need a lecture, who to chase.

:class:`ClassSummary` is computed once from the outcomes; :func:`write_summary` renders it as one self-contained
HTML page with embedded plots and :func:`print_summary` as rich tables, every cell :class:`~rich.text.Text` (a
str cell would be read as markup) and every line :class:`~grader.formats.text.CommandSafe`.
"""

from __future__ import annotations

import base64
import statistics
from collections import Counter
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.batch.outcome import Outcome
from grader.formats.html import ENVIRONMENT
from grader.formats.text import plain, print_safe
from grader.results import GradingReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BUCKET = 10  # percentage points per bar of the score distribution
TOP_MISTAKES = 10
SCORE_COLOUR, MISTAKE_COLOUR = "#0969da", "#cf222e"  # bars; a task's bar has its assignment's colour, C0, C1, ...


class Bucket(BaseModel):
    """Graded students whose percent lies in [low, low + BUCKET), the last bucket including 100."""

    low: int
    students: int

    @property
    def label(self) -> str:
        return f"{self.low}–{self.low + BUCKET}%"


class TaskRate(BaseModel):
    """How many of the graded students who were given a task earned its full points."""

    assignment: str
    task: str
    title: str
    full: int
    students: int

    @property
    def rate(self) -> float:
        return self.full / self.students if self.students else 0.0


class Mistake(BaseModel):
    """A catalogued mistake and how many students made it."""

    assignment: str
    diagnosis: str
    explanation: str | None
    students: int


class Unfinished(BaseModel):
    """A student whose submission could not be graded, was graded incompletely, or ran out of time in some tests;
    ``status`` is the gradebook's (and the CSV's): a timeout is the student's, so its grade is ``graded``."""

    student: str
    status: Literal["error", "incomplete", "graded"]
    reason: str


def distribution(percents: list[float]) -> list[Bucket]:
    """The graded students counted in buckets of BUCKET percentage points."""
    counts = Counter(min(int(p // BUCKET) * BUCKET, 100 - BUCKET) for p in percents)
    return [Bucket(low=low, students=counts[low]) for low in range(0, 100, BUCKET)]


def task_rates(reports: list[GradingReport]) -> list[TaskRate]:
    """Each task's full-points count, in the order the reports list the tasks."""
    rates: dict[tuple[str, str], TaskRate] = {}
    for assignment in (a for report in reports for a in report.assignments):
        for task in assignment.tasks:
            key = (assignment.name, task.id)
            rate = rates.setdefault(key, TaskRate(assignment=key[0], task=key[1], title=task.title, full=0, students=0))
            rate.students += 1
            rate.full += task.score >= task.max_score - 1e-9  # shares of a task's points may not sum exactly
    order = list(dict.fromkeys(rate.assignment for rate in rates.values()))
    return sorted(rates.values(), key=lambda rate: order.index(rate.assignment))


def top_mistakes(reports: list[GradingReport]) -> list[Mistake]:
    """The TOP_MISTAKES diagnoses made by the most students, each counted once per student."""
    counts: Counter[tuple[str, str]] = Counter()
    explanations: dict[tuple[str, str], str | None] = {}
    for report in reports:
        feedback = [(a.name, t.feedback) for a in report.assignments for t in a.tests if t.feedback]
        diagnosed = {(name, f.diagnosis) for name, f in feedback if f.diagnosis}
        counts.update(diagnosed)
        for name, f in feedback:
            if f.diagnosis:
                explanations.setdefault((name, f.diagnosis), f.explanation)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_MISTAKES]
    return [Mistake(assignment=a, diagnosis=d, explanation=explanations[a, d], students=n) for (a, d), n in ranked]


def unfinished(outcome: Outcome) -> Unfinished | None:
    """Why ``outcome`` needs a look: its submission errored, some tests could not run (incomplete: retried by the
    next batch), or some tests timed out; None if none of these."""
    if outcome.status == "error" or outcome.report is None:
        return Unfinished(student=outcome.student, status="error", reason=outcome.reason or "no reason recorded")
    if outcome.status == "incomplete":
        reason = (
            f"{outcome.report.incomplete} test(s) could not run because of the course, the grader or its sandbox "
            "(not counted); the next batch grades it again"
        )
        return Unfinished(student=outcome.student, status="incomplete", reason=reason)
    timeouts = [
        test
        for assignment in outcome.report.assignments
        for test in assignment.tests
        if test.feedback and test.feedback.kind == "timeout"
    ]
    if not timeouts:
        return None
    first = timeouts[0]
    more = f" (and {len(timeouts) - 1} more tests)" if len(timeouts) > 1 else ""
    message = first.feedback.message if first.feedback else ""
    return Unfinished(
        student=outcome.student, status="graded", reason=f"timed out: {first.assignment}: {message}{more}"
    )


class ClassSummary(BaseModel):
    """Everything the summary shows, computed once from each student's latest outcome."""

    students: int
    graded: int
    errored: int
    incomplete: int
    timed_out: int
    mean: float | None = Field(description="mean percent of the graded students")
    median: float | None = Field(description="median percent of the graded students")
    distribution: list[Bucket]
    tasks: list[TaskRate] = Field(description="of the graded students, grouped by assignment in report order")
    mistakes: list[Mistake] = Field(description=f"the {TOP_MISTAKES} most frequent, each counted once per student")
    unfinished: list[Unfinished]

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> ClassSummary:
        """The summary of ``outcomes``, one per student."""
        reports = [o.report for o in outcomes if o.report]
        percents = [r.percent for r in reports]
        listed = [u for u in map(unfinished, outcomes) if u]
        return cls(
            students=len(outcomes),
            graded=sum(o.status == "graded" for o in outcomes),
            errored=sum(u.status == "error" for u in listed),
            incomplete=sum(u.status == "incomplete" for u in listed),
            timed_out=sum(u.status == "graded" for u in listed),
            mean=statistics.fmean(percents) if percents else None,
            median=statistics.median(percents) if percents else None,
            distribution=distribution(percents),
            tasks=task_rates(reports),
            mistakes=top_mistakes(reports),
            unfinished=listed,
        )


def figure(height: float) -> Figure:
    """A page-wide figure drawn by Agg; matplotlib is imported only when a summary is drawn, not with the CLI."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    drawing = Figure(figsize=(8, height), layout="constrained")
    FigureCanvasAgg(drawing)
    return drawing


def png(drawing: Figure) -> str:
    """``drawing`` as a base64 PNG, for an ``<img src="data:image/png;base64,...">``."""
    buffer = BytesIO()
    drawing.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def distribution_plot(summary: ClassSummary) -> str:
    """A histogram of the graded students' percent."""
    from matplotlib.ticker import MaxNLocator

    drawing = figure(3.2)
    axes = drawing.subplots()
    axes.bar(
        [b.low for b in summary.distribution],
        [b.students for b in summary.distribution],
        width=BUCKET,
        align="edge",
        color=SCORE_COLOUR,
        edgecolor="white",
    )
    axes.set(xlim=(0, 100), xlabel=f"score (%) of the {summary.graded} graded students", ylabel="students")
    axes.xaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 5, 10]))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return png(drawing)


def task_plot(summary: ClassSummary) -> str:
    """One bar per task: the fraction of graded students with its full points, coloured by assignment."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    assignments = list(dict.fromkeys(rate.assignment for rate in summary.tasks))
    colours = {name: f"C{i % 10}" for i, name in enumerate(assignments)}
    drawing = figure(1.2 + 0.32 * len(summary.tasks))
    axes = drawing.subplots()
    rows = range(len(summary.tasks))
    bars = axes.barh(rows, [rate.rate for rate in summary.tasks], color=[colours[r.assignment] for r in summary.tasks])
    axes.bar_label(bars, [f"{r.full}/{r.students}" for r in summary.tasks], padding=3, fontsize=8)
    axes.set_yticks(rows, [f"{r.assignment} {r.task}" for r in summary.tasks], fontsize=8)
    axes.invert_yaxis()
    axes.set(xlim=(0, 1.1), xlabel="graded students with full points")
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    legend = [Patch(color=colours[name], label=name) for name in assignments]
    axes.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return png(drawing)


def mistake_plot(summary: ClassSummary) -> str:
    """One bar per frequent mistake: how many students made it."""
    from matplotlib.ticker import MaxNLocator

    drawing = figure(1.2 + 0.32 * len(summary.mistakes))
    axes = drawing.subplots()
    rows = range(len(summary.mistakes))
    bars = axes.barh(rows, [m.students for m in summary.mistakes], color=MISTAKE_COLOUR)
    axes.bar_label(bars, padding=3, fontsize=8)
    axes.set_yticks(rows, [m.diagnosis for m in summary.mistakes], fontsize=8)
    axes.invert_yaxis()
    axes.set(xlabel="students who made it")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(0, max(m.students for m in summary.mistakes) * 1.15)
    return png(drawing)


def write_summary(outcomes: Sequence[Outcome], path: Path) -> None:
    """The summary as one self-contained HTML page: inline CSS, plots embedded as PNGs."""
    summary = ClassSummary.of(outcomes)
    page = ENVIRONMENT.get_template("summary.html.j2").render(
        summary=summary,
        distribution_png=distribution_plot(summary),
        tasks_png=task_plot(summary) if summary.tasks else None,
        mistakes_png=mistake_plot(summary) if summary.mistakes else None,
    )
    path.write_text(page, encoding="utf-8")


def share(value: float | None) -> str:
    """A percent for a table cell, or a dash when there is none."""
    return "–" if value is None else f"{value:.1f}%"


def counts_table(summary: ClassSummary) -> Table:
    """How many students, how many graded, errored, incomplete and timed out, and the mean and median score."""
    table = Table(title="Class", title_justify="left")
    for column in ("Students", "Graded", "Errored", "Incomplete", "Timed out", "Mean", "Median"):
        table.add_column(column, justify="right")
    numbers = (summary.students, summary.graded, summary.errored, summary.incomplete, summary.timed_out)
    cells = (*map(str, numbers), share(summary.mean), share(summary.median))
    table.add_row(*map(plain, cells))
    return table


def distribution_table(summary: ClassSummary) -> Table:
    """The score distribution's buckets, each with a bar."""
    table = Table(title="Score distribution (graded students)", title_justify="left")
    table.add_column("Score")
    table.add_column("Students", justify="right")
    table.add_column("")
    widest = max(b.students for b in summary.distribution) or 1
    for bucket in summary.distribution:
        bar = Text("█" * round(30 * bucket.students / widest), "blue")
        table.add_row(plain(bucket.label), plain(str(bucket.students)), bar)
    return table


def task_table(summary: ClassSummary) -> Table:
    """Each task's full-points count and rate: green when everyone has them, red when fewer than half."""
    table = Table(title="Pass rate per task (students with full points)", title_justify="left")
    table.add_column("Assignment")
    table.add_column("Task")
    table.add_column("Full points", justify="right")
    table.add_column("Rate", justify="right")
    for rate in summary.tasks:
        style = "green" if rate.rate == 1 else "red" if rate.rate < 0.5 else ""
        percentage = plain(f"{100 * rate.rate:.0f}%", style)
        counts = f"{rate.full} / {rate.students}"
        table.add_row(plain(rate.assignment), plain(f"{rate.task} {rate.title}"), plain(counts), percentage)
    return table


def mistake_table(summary: ClassSummary) -> Table:
    """The most frequent mistakes with what each is."""
    table = Table(title="Most frequent diagnosed mistakes", title_justify="left")
    table.add_column("Mistake")
    table.add_column("Assignment")
    table.add_column("Students", justify="right")
    table.add_column("What it is")
    for mistake in summary.mistakes:
        cells = (mistake.diagnosis, mistake.assignment, str(mistake.students), mistake.explanation or "")
        table.add_row(*map(plain, cells))
    return table


def unfinished_table(summary: ClassSummary) -> Table:
    """The students whose submissions errored, were graded incompletely or timed out, and why."""
    table = Table(title="Errored, incomplete or timed out", title_justify="left")
    table.add_column("Student")
    table.add_column("Status")
    table.add_column("Reason")
    for entry in summary.unfinished:
        table.add_row(plain(entry.student), plain(entry.status, "red"), plain(entry.reason))
    return table


def print_summary(outcomes: Sequence[Outcome], console: Console) -> None:
    """The summary's figures as rich tables; tables with nothing to show are left out."""
    summary = ClassSummary.of(outcomes)
    print_safe(console, counts_table(summary))
    print_safe(console, distribution_table(summary))
    if summary.tasks:
        print_safe(console, task_table(summary))
    if summary.mistakes:
        print_safe(console, mistake_table(summary))
    if summary.unfinished:
        print_safe(console, unfinished_table(summary))
