"""The report as JUnit XML, for CI systems: one testsuite per assignment, one testcase per test."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.escape import safe_text
from grader.formats.summary import feedback_text, printed
from grader.results import AssignmentResult, GradingReport, TestResult

# characters XML 1.0 cannot hold, even escaped (terminal escapes in a traceback, for instance)
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """``text`` as safe text without the characters XML 1.0 forbids."""
    return NOT_XML.sub("", safe_text(text))


def seconds(duration: float) -> str:
    """A JUnit ``time`` attribute."""
    return f"{duration:.3f}"


def testcase(test: TestResult) -> ET.Element:
    """A ``<testcase>`` with its properties and, unless it passed, a ``<failure>`` or ``<error>``."""
    element = ET.Element(
        "testcase", classname=f"{test.assignment}.{test.task}", name=clean(test.name), time=seconds(test.duration)
    )
    properties = ET.SubElement(element, "properties")
    values = {
        "assignment": test.assignment,
        "task": test.task,
        "score": str(test.score),
        "max_score": str(test.max_score),
    }
    if test.feedback and test.feedback.diagnosis:
        values["diagnosis"] = test.feedback.diagnosis
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=clean(value))
    if test.status != "passed":
        tag = "error" if test.status == "error" else "failure"
        message = test.feedback.message if test.feedback else test.status
        kind = test.feedback.kind if test.feedback else test.status
        problem = ET.SubElement(element, tag, message=clean(message), type=kind)
        problem.text = clean(feedback_text(test))
    return element


def testsuite(assignment: AssignmentResult) -> ET.Element:
    """A ``<testsuite>`` for one assignment; an assignment that could not be graded gets one ``<error>`` case."""
    cases = [testcase(test) for test in assignment.tests]
    if assignment.error:
        case = ET.Element("testcase", classname=assignment.name, name="(assignment not graded)", time=seconds(0.0))
        ET.SubElement(case, "error", message=clean(assignment.error), type="not_graded").text = clean(assignment.error)
        cases.append(case)
    suite = ET.Element(
        "testsuite",
        name=assignment.name,
        tests=str(len(cases)),
        failures=str(sum(case.find("failure") is not None for case in cases)),
        errors=str(sum(case.find("error") is not None for case in cases)),
        time=seconds(sum(t.duration for t in assignment.tests)),
    )
    if assignment.notes:
        properties = ET.SubElement(suite, "properties")
        for note in assignment.notes:
            ET.SubElement(properties, "property", name="note", value=clean(note))
    suite.extend(cases)
    if printed(assignment):
        ET.SubElement(suite, "system-out").text = clean(printed(assignment))
    return suite


def render(report: GradingReport) -> str:
    """``<testsuites>`` holding every assignment's suite, with the totals summed over them."""
    suites = [testsuite(assignment) for assignment in report.assignments]
    counts = {key: str(sum(int(suite.get(key, "0")) for suite in suites)) for key in ("tests", "failures", "errors")}
    time = seconds(sum(t.duration for a in report.assignments for t in a.tests))
    root = ET.Element("testsuites", {"name": clean(report.submission), **counts, "time": time})
    root.extend(suites)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
