"""Keeping secrets out of messages and records: API keys, bearer tokens, URL credentials."""
from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_PATTERNS = (
    (re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"), r"\1***"),
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{3,}"), "***"),
    (re.compile(r"(?i)((?:api[_-]?key|token|password|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&;]+"), r"\1***"),
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://)[^/\s@]*@"), r"\1***@"),   # scheme://user:pass@
)


def redact(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """Replace the given secrets (whole, and any tail of the text that starts one of them) and
    anything shaped like a key or URL credentials with ***. Redact *before* cutting a text
    short, so a cut can never leave a prefix of a key behind."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
            for n in range(len(secret) - 1, 3, -1):   # a key cut off at the end of the text
                if text.endswith(secret[:n]):
                    text = text[:-n] + "***"
                    break
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_url(url: str | None) -> str | None:
    """The URL without user:password (what may be stored and shown)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
