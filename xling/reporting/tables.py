"""Tables as data, rendered as aligned text, Markdown, CSV or LaTeX."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from .text_table import table as text_table

_TEX = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "_": "\\_", "#": "\\#",
        "$": "\\$", "{": "\\{", "}": "\\}", "^": "\\textasciicircum{}", "~": "\\textasciitilde{}",
        "\n": " ", "\r": " ", "Δ": "$\\Delta$", "→": "$\\rightarrow$"}   # (pdflatex's default encodings lack them)


def tex_escape(text: str) -> str:
    return "".join(_TEX.get(c, c) for c in str(text))


def markdown_cell(text: str) -> str:
    """A cell's text that cannot end the cell (|) or the row (a line break)."""
    return " ".join(str(text).replace("\\", "\\\\").replace("|", "\\|").split("\n"))


def markdown_text(text: str) -> str:
    """A title's, note's or cell's text as written: a run's name with * or _ is no emphasis, with
    < > no HTML element, and better* no start of one (backslashes and pipes as in markdown_cell)."""
    return re.sub(r"([*_`\[\]<>])", r"\\\1", markdown_cell(text))


def p_text(p: float) -> str:
    """A p-value to 4 decimals, never rounded up to 0.05: 0.04995 read "0.0500" beside a mark
    that says p < 0.05 (rounded down where rounding would cross it)."""
    import math

    text = f"{p:.4f}"
    return f"{math.floor(p * 1e4) / 1e4:.4f}" if p < 0.05 <= float(text) else text


def signed(value: float, digits: int) -> str:
    """A difference with its sign, as the HTML page writes it: "+0.12", "-0.12", and a difference
    that rounds to zero unsigned ("0.00", never "+0.00" or "-0.00")."""
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def render(self, fmt: str = "text") -> str:
        if fmt != "text":   # a title or note on one line (a folder name may hold a line break)
            return Table(one_line(self.title), self.header, self.rows, list(map(one_line, self.notes)))._render(fmt)
        return self._render(fmt)

    def _render(self, fmt: str) -> str:
        if fmt == "text":
            body = text_table([self.header] + self.rows)
            return "\n".join([self.title, body] + self.notes)
        if fmt == "markdown":
            lines = [f"**{markdown_text(self.title)}**", "", "| " + " | ".join(map(markdown_text, self.header)) + " |",
                     "|" + "|".join(["---"] + ["---:"] * (len(self.header) - 1)) + "|"]
            lines += ["| " + " | ".join(map(markdown_text, row)) + " |" for row in self.rows]
            return "\n".join(lines + ([""] + [markdown_text(n) for n in self.notes] if self.notes else []))
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            buffer.write(f"# {self.title}\n")   # comment lines as written, never quoted (read_csv(comment="#"))
            writer.writerow(self.header)
            writer.writerows(self.rows)
            buffer.writelines(f"# {note}\n" for note in self.notes)   # signatures, the test, what is left out
            return buffer.getvalue().rstrip("\n")
        if fmt == "latex":
            lines = [f"% {self.title}", "\\begin{tabular}{l" + "r" * (len(self.header) - 1) + "}",
                     "\\toprule", " & ".join(tex_escape(h) for h in self.header) + " \\\\", "\\midrule"]
            lines += [" & ".join(tex_escape(c) for c in row) + " \\\\" for row in self.rows]
            lines += ["\\bottomrule", "\\end{tabular}"] + [f"% {n}" for n in self.notes]
            return "\n".join(lines)
        raise ValueError(f"unknown table format {fmt!r}")


def one_line(text: str) -> str:
    return " ".join(str(text).replace("\r", "\n").split("\n"))


def render_all(tables: list[Table], fmt: str) -> str:
    return "\n\n".join(t.render(fmt) for t in tables) + "\n"
