"""Untrusted text made safe for every output the grader writes.

A hostile student controls much of a report: what their code printed, exception messages and tracebacks, notes
quoting their notebook, the name of their submission. Each format passes those strings through one of these on
the trusted side. Only the standard library is imported, so that the sandbox can call :func:`safe_text` too.
"""

from __future__ import annotations

import html
import re

# terminal escape sequences (CSI, OSC, two-character), the C0 controls but \t and \n, DEL, the C1 controls but
# NEL, and the bidi embeddings, overrides and isolates that show text in another order than it is stored in
UNSAFE = re.compile(
    r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])"
    "|[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]"
)
LINE_BREAK = re.compile("[\x85\u2028\u2029]")  # what str.splitlines breaks at, besides \n and the controls above
SURROGATE = re.compile("[\ud800-\udfff]")
NEWLINE_AND_TAB = str.maketrans("", "", "\n\t")

# the ASCII punctuation GitHub-flavoured markdown gives meaning to, inline or first on a line (GitHub's own: $ for
# math, : for emoji and URL autolinks, . and @ for www. and e-mail autolinks); & < > become entities instead
MARKDOWN = str.maketrans(
    {char: "\\" + char for char in "\\`*_~[]()!#+-=.|$:@"} | {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": " "}
)

# GitHub's runner (ActionCommand.TryParseV2) takes a line for a command when it starts with "::" after
# String.TrimStart(); a runtime has trimmed the zero-width characters too. It splits its input at \r and \n.
COMMAND_LINE = re.compile(r"(?:^|(?<=[\r\n]))((?:[^\S\r\n]|[\u180e\u200b\ufeff])*)(?=::)")
OLD_COMMAND = "##["  # ActionCommand.TryParse: "##[name]data" anywhere in a line

# a cell a spreadsheet would evaluate: = + - @ (or their full-width forms) first after any blanks, or a tab first
FORMULA = re.compile("\\s*[=+\\-@\uff1d\uff0b\uff0d\uff20]|\t")


def safe_text(text: str) -> str:
    """``text`` safe to show anywhere: valid Unicode (a lone surrogate becomes U+FFFD), without terminal escapes
    or control characters but ``\\n`` and ``\\t``, and every line break a ``\\n``."""
    if text.isprintable() or text.translate(NEWLINE_AND_TAB).isprintable():
        return text  # the common case, decided at C speed: no surrogate, control, format or line-break character
    if SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return LINE_BREAK.sub("\n", UNSAFE.sub("", text))


def markdown_text(text: str) -> str:
    """``text`` as GitHub-flavoured markdown that renders literally, on one line, inline or first on a line."""
    return safe_text(text).translate(MARKDOWN)


def inline_html(text: str) -> str:
    """``text`` as the content of an HTML element, on one line (in markdown's raw HTML, say a ``<summary>``)."""
    return html.escape(safe_text(text).replace("\n", " "))


def fenced(text: str, info: str = "text") -> str:
    """``text`` in a fenced code block whose fence no backtick run inside it can close."""
    text = safe_text(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def no_workflow_commands(text: str) -> str:
    """``text`` with no line that GitHub's runner would execute as a workflow command, for a CI log: a backslash
    before a line's leading ``::``, and ``##[`` as ``##\\[``."""
    return COMMAND_LINE.sub(r"\1\\", text.replace(OLD_COMMAND, "##\\["))


def spreadsheet_text(text: str) -> str:
    """``text`` for a CSV cell that a spreadsheet reads as text, never as a formula: a single quote before it when
    it would start one (OWASP's advice on CSV injection)."""
    text = safe_text(text)
    return "'" + text if FORMULA.match(text) else text


def clean_text(data: bytes | str, limit: int) -> str:
    """Untrusted output made safe to show (:func:`grader.escape.safe_text`: valid Unicode, no terminal escapes or
    control characters), cut to ``limit`` characters before any work is done on it."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    cut = len(text) - limit
    text = safe_text(text[:limit])
    return text if cut <= 0 else text + f"\n... ({cut} more characters cut)"
