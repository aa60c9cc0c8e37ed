"""Keeping secrets out of messages and records: API keys, bearer tokens, URL credentials."""
from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from .errors import XlingError

_PATTERNS = (
    (re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"), r"\1***"),
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{3,}"), "***"),
    # Google, Hugging Face and Groq keys (given by mistake where a file or variable name goes)
    (re.compile(r"\b(?:AIza[0-9A-Za-z_\-]{20,}|hf_[A-Za-z0-9]{20,}|gsk_[A-Za-z0-9]{20,})"), "***"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"), "***"),   # a JWT
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


# Keys a local server takes as "no key" (vLLM's docs use EMPTY): as values, not secrets, so
# that the word is not censored in every translation ("There is none left").
PLACEHOLDER_KEYS = frozenset({"empty", "none", "null", "test", "dummy", "fake", "no-key", "nokey", "x",
                              "sk-no-key-required", "not-needed", "not-used", "unused"})


def scrub_known(text: str, secrets: tuple[str | None, ...]) -> str:
    """Only the given secrets (whole), for texts a model or server produced (a server that
    echoes the request's Authorization header, say): unlike redact(), ordinary words shaped
    like "token: x" in a translation stay as they are. Secrets under 4 characters and
    placeholder keys (PLACEHOLDER_KEYS) are left alone, or every such word of every answer
    would go."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret.lower() not in PLACEHOLDER_KEYS and secret in text:
            if len(secret) < 8 and secret.isalpha():   # a word: whole, never a piece of a longer
                # one (?session=eval made "evaluation" "***uation"); a key anywhere (%3DKEY, KEYabc)
                text = re.sub(r"(?<![^\W\d_])" + re.escape(secret) + r"(?![^\W\d_])", "***", text)
            else:
                text = text.replace(secret, "***")
    return text


def escaped_forms(secret: str) -> list[str]:
    """A secret as a server's JSON error body may echo it: escaped by json (non-ASCII as \\u,
    quotes and backslashes) and with PHP's and Java's `\\/` for every slash."""
    import json

    forms = {secret}
    for ascii_only in (False, True):
        escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        forms |= {escaped, escaped.replace("/", "\\/")}
    return sorted(forms, key=len, reverse=True)


# Query parameters that name a setting, whose values are shown and not scrubbed from answers.
SETTING_QUERY_KEYS = frozenset({"api-version", "api_version", "deployment", "deployment-id", "model", "version"})
# Query keys whose values are credentials (scrubbed from answers too, not only from messages):
# a word of the key's name ("api_key", "access-token", "X-Api-Key"), or the whole name
# ("code", OAuth's; "session"); never a word inside another ("author", "bypass", "region_code")
_CREDENTIAL_WORDS = frozenset({"key", "apikey", "token", "secret", "sig", "signature", "password", "passwd",
                               "pwd", "pw", "pass", "passphrase", "jwt", "auth", "authorization", "credential",
                               "credentials", "sessionid", "sid", "bearer"})
_CREDENTIAL_NAMES = frozenset({"code", "session", "s", "k", "sas"})
# ... and long enough to be read inside a name run together ("accesskey", "clientsecret")
_CREDENTIAL_PARTS = ("token", "secret", "passw", "passphrase", "apikey", "accesskey", "signature", "credential")


def _credential_key(key: str) -> bool:
    words = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower()) if w]
    return key.lower() in _CREDENTIAL_NAMES or any(w in _CREDENTIAL_WORDS for w in words) \
        or any(part in key.lower() for part in _CREDENTIAL_PARTS)


# Further names of credentials, hidden (***) in what is stored and shown but, being short or
# common, not scrubbed from answers unless key-shaped (?pin=1234 must not turn "1234" in a
# translation into ***); a name ending in "key" (appkey, authkey, privatekey, skey) is one too.
_HIDDEN_WORDS = frozenset({"ak", "sk", "sign", "signed", "hmac", "pin", "otp", "totp", "pat", "cred", "creds", "ticket",
                           "passcode", "private", "session", "sessionid", "cookie", "nonce", "license", "licence",
                           "secret", "password", "authkey", "appkey", "appsecret", "privatekey", "authcode", "psk",
                           "mac", "digest", "salt"})
_HIDDEN_NAMES = frozenset({"p", "pw", "sig", "sign", "auth", "st", "tk", "tok", "ticket", "hash"})
# Fields of a signed URL (S3/CloudFront/GCS V4 signing, Azure SAS): a re-signed URL is the same
# endpoint, so they are no part of its identity; shown as ***, never as a digest of a value that
# changes with every signature. Azure SAS's short names only beside its sig.
_SIGNING_PREFIXES = ("x-amz-", "x-goog-")
_SIGNING_NAMES = frozenset({"expires", "signature", "policy", "key-pair-id", "awsaccesskeyid", "googleaccessid"})
_SAS_NAMES = frozenset({"sig", "se", "sp", "sv", "st", "spr", "sr", "srt", "ss", "sip", "si", "sdd", "skoid", "sktid",
                        "skt", "ske", "sks", "skv", "saoid", "suoid", "scid"})


def _hidden_key(name: str, names: set[str]) -> bool:
    """Whether a query field's value is shown as *** (a credential, or a signing field of a signed
    URL, `names` being the lower-case names of all its fields)."""
    lower = name.lower()
    words = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()) if w]
    words += [w.rstrip("0123456789") for w in words]   # (pw2, key1, passcode2: a numbered credential)
    return _credential_key(name) or _credential_key(name.rstrip("0123456789")) or lower in _HIDDEN_NAMES \
        or any(w in _HIDDEN_WORDS for w in words) \
        or any(w.endswith("key") for w in words) or lower.startswith(_SIGNING_PREFIXES) or lower in _SIGNING_NAMES \
        or "sig" in names and lower in _SAS_NAMES


def _key_shaped(value: str) -> bool:
    """A value that looks like a generated key or password (letters and digits), not a word."""
    return len(value) >= 8 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def url_secrets(url: str | None, *, answers: bool = False) -> tuple[str, ...]:
    """Every form in which what a URL carries may come back and must never be stored or shown:
    its password (or a user name given alone) as written and percent-decoded, the base64 `user:password` that
    travels as Basic auth, and the query string's values (a gateway's ?api_key=...) and bare words
    (`?SECRET`), as written and decoded. With `answers`, what is also scrubbed from a model's
    answers: of the query, credentials' values (?api_key=, ?sig=, ?pwd=, ?accessToken=) and
    key-shaped values and words (letters and digits); a gateway's ?project=news must not turn
    every "news" of every translation into ***."""
    if not url:
        return ()
    import base64
    from urllib.parse import quote, quote_plus, unquote

    parts = urlsplit(url)
    found: list[str] = []
    if parts.username is not None or parts.password is not None:
        user, password = parts.username or "", parts.password or ""
        # A user name beside a password is a login name (the pair, below, is the secret); alone,
        # it is the token itself (http://TOKEN@host).
        found += [password, unquote(password)] if password else [user, unquote(user)]
        for pair in {f"{user}:{password}", f"{unquote(user)}:{unquote(password)}"}:
            found.append(base64.b64encode(pair.encode("utf-8")).decode("ascii"))
    for field in parts.query.split("&"):
        key, equals, value = field.partition("=")
        if equals and unquote_plus(key).lower() in SETTING_QUERY_KEYS:
            continue   # a gateway's setting (api-version=2024-06-01), not a secret
        word = value if equals else key
        # (a bare word, `?SECRET`, only where it looks like a key or a passphrase: `?beta` is a flag)
        if answers and not (equals and _credential_key(unquote_plus(key))) and not _key_shaped(unquote_plus(word)) \
                and not (not equals and len(word) >= 16):
            continue
        # as written, decoded, and re-encoded as httpx sends it (a base64 key's / and = typed raw
        # travel as %2F and %3D, and a server echoing its request path gives that form back)
        found += [word, unquote_plus(word), quote_plus(unquote_plus(word)), quote(unquote_plus(word), safe="")]
    # Longest first, so that a secret is replaced whole before a shorter one inside it.
    return tuple(sorted({v for v in found if v}, key=len, reverse=True))


def redact_url(url: str | None) -> str | None:
    """The URL without user name or password, with its query values (and value-less query words)
    hidden but those of settings (SETTING_QUERY_KEYS: a gateway's ?deployment= names the model
    that answers, so it must tell two URLs apart), and other values that are no credentials as
    digests (_shown_query): what may be stored and shown."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:   # an unclosed [IPv6 address: shown, never parsed
        return shown_url(url)
    if not parts.netloc and "@" in url:   # no scheme (user:pass@host): refused, but never kept as typed
        return shown_url(url)
    if parts.username is None and parts.password is None and not parts.query:
        return url
    host = parts.hostname or ""   # (lower case, as run folders have always stored it)
    if ":" in host:   # IPv6
        host = f"[{host}]"
    port = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    if port:   # as written: .port raises on one that is no number (refused elsewhere, never a crash here)
        host += f":{int(port) if port.isdigit() else port}"
    query = _shown_query(parts.query)
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment and "***"))


def _shown_query(query: str) -> str:
    """Settings' values as written; credentials' (by their name, or a value shaped like a known
    key) and bare words as ***; any other value as a digest, ~ and 12 hex digits: a gateway's
    ?deployment_id= or ?route= names the model that answers, so two of them must be two
    identities (they shared one cache), while the value itself is never shown."""
    import hashlib

    names = {unquote_plus(field.partition("=")[0]).lower() for field in query.split("&")}

    def shown(field: str) -> str:
        key, equals, value = field.partition("=")
        if not equals:
            return "***"
        name, value = unquote_plus(key), unquote_plus(value)
        if name.lower() in SETTING_QUERY_KEYS:
            return field
        if _hidden_key(name, names) or redact(value) != value:
            return f"{key}=***"
        return f"{key}=~{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"
    return "&".join(map(shown, query.split("&"))) if query else ""


def shown_url(url: str) -> str:
    """A URL as a message may show it, even one that cannot be taken apart (a port that is no
    number, no scheme, `http//user:pass@host`): no user name or password, query values hidden."""
    text = str(url)
    scheme = re.match(r"[A-Za-z][\w+.\-]*:?//", text)
    start = scheme.end() if scheme else 0
    tail = text[start:]
    at = tail.rfind("@")
    if at >= 0:   # everything up to the last @ (a password may hold / ? #) ...
        ends = [i for i in (tail.find("?"), tail.find("#")) if i >= 0]
        if ends and min(ends) < at:   # ... unless a query or fragment may hold it: nothing shown
            return text[:start] + "***"
        text = text[:start] + "***@" + tail[at + 1:]
    rest, hash_, fragment = text.partition("#")
    rest, ask, query = rest.partition("?")
    return redact(rest + ask + _shown_query(query) + (hash_ and "#***"))


def hidden_query_values(url: str) -> tuple[str, ...]:
    """A stored URL as older versions of xling wrote it: every query value *** (before a setting's
    value was shown), and settings' values as written with every other value *** (before other
    values were shown as digests): what older run folders hold."""
    parts = urlsplit(url)
    if not parts.query:
        return (url,)
    fields = parts.query.split("&")
    every = "&".join(f"{f.partition('=')[0]}=***" if "=" in f else f for f in fields)
    settings = "&".join(f if "=" not in f or unquote_plus(f.partition("=")[0]).lower() in SETTING_QUERY_KEYS
                        else f"{f.partition('=')[0]}=***" for f in fields)
    return tuple(urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
                 for query in dict.fromkeys((every, settings)))


def check_server_url(url: str | None, option: str) -> None:
    """A server URL that urllib and httpx can take apart (scheme, host, a numeric port), or one
    XlingError naming the option; the URL is never echoed with its credentials."""
    if url is None:
        return

    try:
        parts = urlsplit(url)
        parts.port   # raises on a port that is not a number in 0-65535
    except ValueError as exc:   # (urllib's own words may quote a piece of the password)
        why = "an unclosed [ in its host" if "IPv6" in str(exc) else "its port is not a number in 0-65535"
        raise XlingError(f"{option} {shown_url(url)!r} is not a valid URL ({why})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise XlingError(f"{option} must be http:// or https:// followed by a host, not {shown_url(url)!r}")
