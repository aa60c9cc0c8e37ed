"""Plain-text tables that line up CJK text (wide characters count as two columns)."""
import unicodedata


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(rows) -> str:
    rows = [[str(v) for v in row] for row in rows]
    widths = [max(display_width(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(v + " " * (w - display_width(v)) for v, w in zip(r, widths)).rstrip()
                     for r in rows)
