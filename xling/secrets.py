"""Keeping secrets out of messages and records: API keys, bearer tokens, URL credentials."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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


def scrub_known(text: str, secrets: tuple[str | None, ...]) -> str:
    """Only the given secrets (whole), for texts a model or server produced (a server that
    echoes the request's Authorization header, say): unlike redact(), ordinary words shaped
    like "token: x" in a translation stay as they are. Secrets under 4 characters are left
    alone, or every such word of every answer would go."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "***")
    return text


def url_secrets(url: str | None) -> tuple[str, ...]:
    """What a URL carries that must never be stored or shown: its password and the values of
    its query string (a gateway's ?api_key=...)."""
    if not url:
        return ()
    parts = urlsplit(url)
    values = [v for _, v in parse_qsl(parts.query, keep_blank_values=True) if v]
    return tuple(v for v in (parts.password, *values) if v)


def redact_url(url: str | None) -> str | None:
    """The URL without user:password and with its query values hidden (what may be stored
    and shown)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None and not parts.query:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    query = urlencode([(k, "***") for k, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment and "***"))
