"""The HTTP backend against a fake OpenAI-compatible server that answers every malformed shape:
each is a failed request (retried), then one clear line; nothing hangs, no secret leaks."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import assert_one_line_error
from servers import FakeOpenAI

from xling.backends.http import HTTPBackend
from xling.errors import XlingError
from xling.translation.translator import Translator

KEY = "sk-test-SECRETKEY-0123456789"


@pytest.fixture
def fake():
    server = FakeOpenAI()
    yield server
    server.close()


def translate(server, url=None, **options):
    backend = HTTPBackend("fake-model", url or server.url, api_key=KEY, backoff=0.01,
                          **{"max_retries": 2, "timeout": 5.0, **options})
    return Translator(backend=backend, cache=False).translate(["안녕하세요"], "ko", "en")


def test_a_well_formed_answer_is_the_translation(fake):
    assert translate(fake) == ["fine"]


@pytest.mark.parametrize("mode", ["list", "null", "choice-strings", "message-null", "content-42",
                                  "broken-sse", "cut-sse", "not-json", "two-choices"])
def test_each_malformed_answer_is_retried_then_one_clear_error(fake, mode):
    fake.mode = mode
    with pytest.raises(XlingError) as caught:
        translate(fake)
    message = str(caught.value)
    assert "malformed answers" in message and "after 2 retries" in message and "\n" not in message
    assert fake.requests == 3                     # the first try and two retries


def test_a_stream_is_read_to_its_end_and_a_cut_one_is_never_a_translation(fake):
    """A stream whose connection closed mid-answer ("The cat sat on") was taken and cached as
    the translation; "cut-sse" above is retried, then one line."""
    fake.mode = "sse"
    assert translate(fake) == ["fine"]


def test_requests_wait_until_the_server_says_what_it_is(fake):
    """A 503 from /models (a proxy while the server warms up) made xling take the server for
    "other" for the whole run: vLLM then got no neutral sampling fields (the checkpoint's
    repetition penalty shaped greedy outputs), and the answers were cached as neutral ones."""
    fake.models = [(503, b'{"error": "warming up"}'), (503, b'{"error": "warming up"}'),
                   (200, b'{"data": [{"id": "fake-model", "owned_by": "vllm"}]}')]
    assert translate(fake) == ["fine"]
    assert fake.payloads and all(p.get("repetition_penalty") == 1.0 and p.get("top_k") == -1
                                 for p in fake.payloads)


def test_the_schema_probe_outside_the_base_url_carries_no_credentials(fake):
    """(audit round 19) GET /openapi.json at the host's root (is it `transformers serve`?) went
    with the Bearer key and the ?api_key= query, though the key is sent only to --base-url."""
    fake.models = [(200, b'{"data": [{"id": "fake-model", "owned_by": "someone"}]}')]
    url = fake.url.replace("http://", "HTTP://").replace("/v1", "/proxy/v1?api_key=QSECRET")
    assert translate(fake, url) == ["fine"]   # (an upper-case scheme is http://)
    probes = [(path, auth) for path, auth in fake.gets if "openapi" in path]
    assert probes == [("/openapi.json", "")]
    assert any(path.startswith("/proxy/v1/models?api_key=QSECRET") and auth == f"Bearer {KEY}"
               for path, auth in fake.gets)


def test_a_server_whose_model_list_never_answers_is_still_used(fake, capsys):
    """Waiting for the probe made a gateway whose GET /models always fails unusable (the review)."""
    fake.models = [(500, b'{"error": "upstream"}')]
    assert translate(fake) == ["fine"]
    assert fake.payloads and "repetition_penalty" not in fake.payloads[-1]
    assert "did not say what server it is (GET /models failed on every try" in capsys.readouterr().err


def test_a_redirect_with_a_body_is_an_error_not_a_translation(fake):
    fake.mode = "redirect"
    with pytest.raises(XlingError, match="redirect"):
        translate(fake)
    assert fake.requests == 1


def test_a_retry_after_longer_than_the_retries_may_wait_is_said_at_once(fake, capsys):
    """(audit round 28) a Retry-After of an hour was slept up to the request timeout per retry
    (10 minutes in silence at the defaults), then retried too early anyway, and the final line
    never said what the server asked."""
    fake.mode = "retry-after-3600"
    start = time.monotonic()
    with pytest.raises(XlingError, match=r"asks to wait 3,600 s before trying again \(HTTP 503 .*busy.*\), "
                                         r"longer than the retries left may wait \(1 s: --max-retries x "
                                         r"--request-timeout\)"):
        translate(fake, timeout=0.5, max_retries=2)
    assert time.monotonic() - start < 5 and fake.requests == 1
    assert capsys.readouterr().err == ""


def test_a_retry_after_longer_than_one_request_is_waited_whole():
    """(review A, round 28) a Retry-After of 3 s with a 2 s request timeout was refused at once,
    where waiting 3 s (the retries may wait 10) got the answer."""
    server = FakeOpenAI("retry-after-1-once")
    try:
        start = time.monotonic()
        assert translate(server, timeout=0.5, max_retries=4) == ["fine"]
        assert time.monotonic() - start >= 1.0 and server.requests == 2   # the second asked for, not 0.5 s
    finally:
        server.close()


def test_the_first_retry_is_said_once(fake, capsys):
    """(audit round 28) a failing server was retried in silence until the last retry failed."""
    fake.mode = "quota"
    with pytest.raises(XlingError, match="kept failing"):
        translate(fake, max_retries=3)
    err = capsys.readouterr().err
    assert fake.requests == 4 and err.count("xling: note: ") == 1, err
    assert "failed a request (HTTP 429 " in err and "at most 3 times per request" in err


def test_a_runaway_answer_is_cut_off_by_what_max_tokens_allows(fake):
    fake.mode = "huge"
    start = time.monotonic()
    with pytest.raises(XlingError, match="larger than"):
        translate(fake, max_retries=0)
    assert time.monotonic() - start < 10


def test_a_long_output_does_not_stall_language_detection():
    from xling.metrics.langid import detect

    # judged on its first characters (no timing: this test once depended on the machine's speed):
    # an ~11 MB output whose second half is Korean is English, and detected at once
    assert detect("word and another word " * 250_000 + "다른 언어로 쓴 문장입니다. " * 250_000).lang == "en"


def test_an_echoed_key_is_redacted_even_where_the_message_is_cut(fake):
    fake.mode = "echo:" + KEY
    with pytest.raises(XlingError) as caught:
        translate(fake)
    message = str(caught.value)
    assert "refused" in message
    for n in range(6, len(KEY) + 1):
        assert KEY[:n] not in message


def test_url_credentials_are_kept_out_of_run_folders_and_messages(fake, tmp_path, tiny_causal):
    from xling.runs.config import build_config
    from xling.tasks.mt import run_mt

    for lang, line in (("ko", "안녕하세요"), ("en", "Hello")):
        (tmp_path / f"c.{lang}").write_text(line + "\n", encoding="utf-8")
    url = f"http://user:{KEY}@127.0.0.1:{fake.port}/v1"
    config = build_config(dict(out=str(tmp_path / "run"), model="fake-model", backend="http",
                               base_url=url, pairs=["ko-en"], data=f"text:{tmp_path}/c.{{lang}}",
                               metrics=["chrf"], max_retries=0))
    run = run_mt(config, progress=False)
    assert run.read_outputs("ko-en")[0]["output"] == "fine"
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    fake.mode = "message-null"
    with pytest.raises(XlingError) as caught:
        translate(fake, url=url)
    assert KEY not in str(caught.value) and "user" not in str(caught.value)


@pytest.mark.parametrize("signum, code, said", [(signal.SIGINT, 130, b"interrupted"),
                                                 # timeout, kill, scancel: unwound as Ctrl-C is
                                                 (signal.SIGTERM, 143, b"terminated")])
def test_ctrl_c_cancels_in_flight_requests_at_once(tmp_path, signum, code, said):
    server = FakeOpenAI(stall=300)   # far longer than the wait below: an answer never comes first
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "xling.cli", "translate", "-s", "ko", "-t", "en", "--backend", "http",
             "--base-url", server.url, "-m", "fake-model", "--request-timeout", "60", "--no-cache",
             "하나", "둘", "셋"], stderr=subprocess.PIPE,
            env=dict(os.environ, XLING_API_KEY=KEY, PYTHONFAULTHANDLER="1"),
            # Ctrl-C as at a terminal, even where this test runs with SIGINT ignored (a
            # background job): a process started so keeps ignoring it
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 120   # generous: the loop ends as soon as they arrive
        while server.requests < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.requests == 3
        process.send_signal(signum)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:   # say where it hangs: faulthandler dumps every thread
            process.send_signal(signal.SIGABRT)
            pytest.fail("still running 60 s after the signal:\n" + process.communicate()[1].decode()[-6000:])
        assert process.returncode == code and said in err and b"Traceback" not in err
    finally:
        server.close()


def test_malformed_answers_from_the_shell_are_one_line(fake):
    fake.mode = "content-42"
    result = subprocess.run([sys.executable, "-m", "xling.cli", "translate", "-s", "ko", "-t", "en",
                             "--backend", "http", "--base-url", fake.url, "-m", "fake-model",
                             "--max-retries", "0", "--no-cache", "안녕"], capture_output=True, timeout=60)
    assert_one_line_error(result, "malformed answers")


def test_a_refusal_is_an_empty_output_not_a_malformed_answer(fake):
    fake.mode = "content-refused"
    assert translate(fake) == [""] and fake.requests == 1      # never retried into a failed run


def test_an_undecodable_answer_is_retried_then_one_line(fake):
    fake.mode = "gzip-header-plain-body"
    with pytest.raises(XlingError, match="kept failing .* after 2 retries"):
        translate(fake)
    assert fake.requests == 3


def test_a_lone_surrogate_is_stored_as_a_replacement_character(fake, tmp_path):
    from xling.store.cache import OutputCache

    fake.mode = "lone-surrogate"
    backend = HTTPBackend("fake-model", fake.url, api_key=KEY, max_retries=0)
    cache = OutputCache(tmp_path / "outputs.sqlite")
    out = Translator(backend=backend, cache=cache).translate(["안녕하세요"], "ko", "en")
    assert out == ["half \ufffd an emoji"]


def test_placeholder_keys_and_settings_are_not_censored_in_outputs(fake):
    fake.mode = "echo-none"
    url = fake.url + "?api-version=2024-06-01&deployment=test"
    backend = HTTPBackend("fake-model", url, api_key="none", max_retries=0)
    assert Translator(backend=backend, cache=False).translate(["하나"], "ko", "en") == [
        "There is none left, this is a test."]


def test_two_gateway_deployments_are_two_models_to_the_cache_and_the_run():
    """A gateway's ?deployment= names the model that answers: hidden as a secret, gpt-35-turbo
    was served gpt-4o's cached translations. Secret query values stay hidden."""
    from xling.backends.http import HTTPBackend

    def fingerprint(deployment):
        return HTTPBackend("gpt", f"https://gw.example/v1?deployment={deployment}&api-version=2024-06-01"
                                  "&api_key=S3CRETKEY", max_retries=0).fingerprint
    first, second = fingerprint("gpt-4o"), fingerprint("gpt-35-turbo")
    assert first != second
    assert first["base_url"] == "https://gw.example/v1?deployment=gpt-4o&api-version=2024-06-01&api_key=***"


def test_an_api_key_is_read_without_its_line_end_and_one_no_header_can_carry_is_one_line(tmp_path, monkeypatch,
                                                                                         capsys):
    """A Windows .env's trailing CR was sent and retried for half a minute; a non-ASCII key was
    a traceback from the HTTP client."""
    from helpers import assert_error, run_cli

    from xling.backends.http import read_api_key

    monkeypatch.setenv("XLING_API_KEY", "sk-abc123\r\n")
    assert read_api_key() == "sk-abc123"
    (tmp_path / "key").write_text("sk-abc123\r\n")
    assert read_api_key(None, str(tmp_path / "key")) == "sk-abc123"
    monkeypatch.setenv("XLING_API_KEY", "ключ-123")
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "-m", "m",
                           "--base-url", "http://127.0.0.1:9/v1", "안녕")
    assert_error(code, err, "$XLING_API_KEY holds characters an HTTP header cannot carry")
    assert "ключ" not in err
    # a variable the user named that is unset or empty: said, not a request without a key (a 401)
    monkeypatch.delenv("MY_GATEWAY_KEY", raising=False)
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "-m", "m",
                           "--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "MY_GATEWAY_KEY", "안녕")
    assert_error(code, err, "the API key variable $MY_GATEWAY_KEY is not set")
    monkeypatch.setenv("MY_GATEWAY_KEY", " ")
    with pytest.raises(XlingError, match=r"\$MY_GATEWAY_KEY is empty"):
        read_api_key("MY_GATEWAY_KEY")


def test_a_served_models_tokenizer_counts_its_tokens(tiny_causal_base, capsys):
    """Without one, budgets were guessed at 3 bytes a token (Thai answers 2.8x too long)."""
    from helpers import assert_error, run_cli
    from transformers import AutoTokenizer

    from xling.backends.http import HTTPBackend

    text = "ภาษาไทย 한국어 text"
    counted = HTTPBackend("served", "http://127.0.0.1:9/v1", tokenizer=str(tiny_causal_base)).count_tokens(text)
    assert counted == len(AutoTokenizer.from_pretrained(tiny_causal_base)(text, add_special_tokens=False)["input_ids"])
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "-m", "m",
                           "--base-url", "http://127.0.0.1:9/v1", "--tokenizer", "./no/such/folder", "안녕")
    assert_error(code, err, "tokenizer folder './no/such/folder' does not exist")


def test_retry_after_as_an_http_date():
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from xling.backends.http import _retry_after

    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 < _retry_after(later) <= 30
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0 and _retry_after("soon") is None


def test_a_token_across_the_context_boundary_counts_for_the_continuation():
    from xling.backends.http import _continuation_logprob

    # "I like " + "apples.": the tokenizer merged the space into " apples", which starts in the
    # context; the last token is the one generated (not counted)
    body = {"choices": [{"text": "I like apples.X", "logprobs": {
        "tokens": ["I", " like", " apples", ".", "X"], "text_offset": [0, 1, 6, 13, 14],
        "token_logprobs": [None, -1.0, -2.0, -3.0, -0.5]}}]}
    assert _continuation_logprob(body, "here", start=7, end=14) == -5.0
    assert _continuation_logprob(body, "here", start=6, end=14) == -5.0    # no straddle: the same tokens


@pytest.mark.parametrize("mode", ["logprobs-no-echo", "logprobs-after-prompt"])
def test_a_server_ignoring_echo_is_said_to_score_no_prompts_at_once(mode):
    """(audit round 26) its answers, the generated token alone, were malformed answers ("no echoed
    token covers the continuation") after every retry, without the advice to use --mode gen."""
    server = FakeOpenAI(mode)
    try:
        backend = HTTPBackend("fake-model", server.url, max_retries=2, backoff=0.01)
        with pytest.raises(XlingError, match=r"does not score prompts .*; use --mode gen with it$"):
            backend.loglikelihood([("Korean:", [" 바다"])])   # (the context is 7 characters)
    finally:
        server.close()
    assert server.requests == 1


def test_http_log_likelihood_cache_keys_stay_for_contexts_ending_in_whitespace():
    """The server's offsets score them (no local split changed): their cached scores stay valid."""
    from xling.backends.cached import CachedBackend
    from xling.backends.http import HTTPBackend
    from xling.store.cache import content_key

    backend = HTTPBackend("served", "http://127.0.0.1:9/v1", max_retries=0)
    key = CachedBackend(backend, None).loglikelihood_key("Answer: ", ["Yes"])
    assert key == content_key(kind="loglikelihood", context="Answer: ", options=["Yes"], model=backend.fingerprint)


def test_answers_on_their_way_when_a_request_fails_are_kept():
    """One failed request raised at once: the answers of the requests already sent were never
    cached, so a resume asked (and a paid API billed) them again."""
    def respond(payload):
        text = json.dumps(payload, ensure_ascii=False)
        if "셋" in text:
            raise RuntimeError("this request fails")   # the server hangs up: retried, then an error
        time.sleep(1.0)
        return "fine"

    server = FakeOpenAI(respond=respond)
    try:
        backend = HTTPBackend("fake-model", server.url, backoff=0.01, max_retries=1, timeout=10.0, concurrency=4)
        with pytest.raises(XlingError):
            Translator(backend=backend).translate(["하나", "둘", "셋", "넷"], "ko", "en")
        asked = server.requests
        again = HTTPBackend("fake-model", server.url, backoff=0.01, max_retries=1, timeout=10.0, concurrency=4)
        with pytest.raises(XlingError):
            Translator(backend=again).translate(["하나", "둘", "셋", "넷"], "ko", "en")
    finally:
        server.close()
    assert asked == 3 + 2                       # three answered, the failing one tried twice
    assert server.requests - asked == 2         # again: only the failing one (twice), the rest cached


# -- what the server says, kept (audit round 15) -------------------------------------------------

def test_an_answer_the_servers_token_limit_ended_is_marked_and_counted(tmp_path, capsys):
    """finish_reason "length" was only used to strip a broken last character: a cut translation
    passed as complete, with no note (and a cut judge answer scored as a whole one). The mark
    survives the output cache, so a resumed run counts the same."""
    from xling.backends.base import was_cut
    from xling.store.cache import OutputCache

    server = FakeOpenAI(respond=lambda payload: ("Das ist der Anf", "length")
                        if "long" in payload["messages"][-1]["content"] else "Hallo.")
    try:
        for attempt in range(2):
            cache = OutputCache(tmp_path / "cache.sqlite")
            backend = HTTPBackend("fake-model", server.url, max_retries=0)
            translator = Translator(backend=backend, cache=cache)
            results = translator.translate_records(["a long sentence", "hello"], "en", "de")
            cache.close()
            assert [r.text for r in results] == ["Das ist der Anf", "Hallo."]
            assert [was_cut(r.raw) for r in results] == [True, False] and translator.last_cut == [1]
            assert "1 of 2 translations stopped at their token budget" in capsys.readouterr().err
        assert server.requests == 2     # the second time, both answers and the mark came from the cache
    finally:
        server.close()


@pytest.mark.parametrize("reason", ["model_length", "max_tokens"])
def test_other_servers_names_for_a_token_limit_mark_the_answer_cut(reason, capsys):
    """(audit round 28) Mistral's "model_length" (its context window) and Anthropic's endpoint's
    "max_tokens" ended answers taken as whole ones: a cut MQM judge answer was scored."""
    from xling.backends.base import was_cut

    server = FakeOpenAI(respond=lambda payload: ("Das ist der Anf", reason))
    try:
        translator = Translator(backend=HTTPBackend("fake-model", server.url, max_retries=0), cache=False)
        (record,) = translator.translate_records(["a long sentence"], "en", "de")
        assert was_cut(record.raw) and translator.last_cut == [1]
        assert "1 of 1 translations stopped at their token budget" in capsys.readouterr().err
    finally:
        server.close()


def test_a_quota_refusal_keeps_the_servers_reason(tmp_path):
    """A 429 that never clears (OpenAI's "exceeded your current quota") ended in "kept failing
    (HTTP 429)": the reason the server gave was dropped."""
    server = FakeOpenAI("quota")
    try:
        with pytest.raises(XlingError, match=r"kept failing \(HTTP 429 .*exceeded your current quota"):
            translate(server, max_retries=1)
    finally:
        server.close()


@pytest.mark.parametrize("path, sent", [
    ("/v1beta/openai/", "/v1beta/openai/chat/completions"),    # Gemini's OpenAI endpoint
    ("", "/v1/chat/completions"),                              # a bare vLLM/TGI address
    ("/v1/chat/completions", "/v1/chat/completions"),          # the endpoint pasted whole
])
def test_the_base_url_is_the_apis_root_as_given(path, sent):
    """/v1 was appended to every base URL: Gemini's .../v1beta/openai/ got 404s at
    .../v1beta/openai/v1/chat/completions."""
    server = FakeOpenAI()
    try:
        assert translate(server, url=f"http://127.0.0.1:{server.port}{path}") == ["fine"]
        assert server.paths[-1].split("?")[0] == sent
    finally:
        server.close()


def test_a_run_resumes_with_another_spelling_of_the_same_server(tmp_path, data_dir, monkeypatch):
    """A folder made with http://h:p was refused with http://h:p/v1/ ("differs in: base_url"),
    the same server and the same cached outputs."""
    from xling.runs.config import build_config
    from xling.tasks.mt import run_mt

    monkeypatch.setenv("XLING_DATA", str(data_dir))
    server = FakeOpenAI(respond=lambda payload: "Hallo.")
    try:
        settings = dict(model="fake-model", backend="http", pairs=["en-de"], limit=2, metrics=["chrf"],
                        max_retries=0, out=str(tmp_path / "run"))
        run_mt(build_config(dict(settings, base_url=f"http://127.0.0.1:{server.port}")), progress=False)
        asked = server.requests
        resumed = run_mt(build_config(dict(settings, base_url=f"http://127.0.0.1:{server.port}/v1/")),
                         progress=False)
        assert [r["output"] for r in resumed.read_outputs("en-de")] == ["Hallo.", "Hallo."]
        assert server.requests == asked
    finally:
        server.close()


def test_a_login_name_beside_a_password_is_not_scrubbed_and_a_key_it_displaces_is_said(fake, capsys):
    """"e" as a URL's user name made every later message read "m***ssag***"; and httpx's Basic
    auth replaces the Authorization header, so the API key beside it was silently not sent."""
    url = f"http://e:{KEY}@127.0.0.1:{fake.port}/v1"
    backend = HTTPBackend("fake-model", url, api_key="sk-other-key-987654321", max_retries=0)
    assert "the API key is not sent" in capsys.readouterr().err
    assert backend._redact(f"error message: invalid key {KEY}") == "error message: invalid key ***"
    assert HTTPBackend("fake-model", f"http://{KEY}@127.0.0.1:{fake.port}/v1")._redact(KEY) == "***"   # a token alone
    assert "not sent" not in capsys.readouterr().err
    short = HTTPBackend("fake-model", f"http://user:e@127.0.0.1:{fake.port}/v1")   # nothing under 4 characters
    assert short._redact("error message here") == "error message here"
    keyed = HTTPBackend("fake-model", f"http://{KEY}:x@127.0.0.1:{fake.port}/v1")   # a key as the user name
    assert keyed._redact(f"bad key {KEY}") == "bad key ***"
    with Translator(backend=backend, cache=False) as translator:
        translator.translate(["안녕하세요"], "ko", "en")
    assert fake.authorizations == [fake.authorizations[0]] and fake.authorizations[0].startswith("Basic ")


def test_closing_a_translator_closes_the_connections_of_the_server_it_opened(fake):
    with Translator("fake-model", backend="http", base_url=fake.url, cache=False) as opened:
        opened.translate(["안녕하세요"], "ko", "en")
    assert opened.backend._client.is_closed          # (its sockets stayed until a GC cycle)
    given = HTTPBackend("fake-model", fake.url)
    with Translator(backend=given, cache=False):
        pass
    assert not given._client.is_closed               # a backend handed in stays the caller's


# -- audit round 22 -----------------------------------------------------------------------------

def test_an_answer_that_is_not_utf8_is_retried_never_kept_with_replacement_characters(fake):
    """A Latin-1 body was decoded with U+FFFD ("caf\ufffd"), exit 0, and cached as the translation."""
    fake.mode = "latin1"
    with pytest.raises(XlingError, match="not UTF-8 text"):
        translate(fake)
    assert fake.requests == 3
    fake.mode = "latin1-declared"   # a charset the server declares is the answer's
    assert translate(fake) == ["café"]
    fake.mode = "utf8-declared-latin1"   # ... unless the body is UTF-8 (JSON's own, whatever is said)
    assert translate(fake) == ["café 한국"]
    fake.mode = "utf16-declared"   # (its ASCII, NULs between, is valid UTF-8 too: the declaration first)
    assert translate(fake) == ["fine"]
    fake.mode = "utf8-declared-utf16"   # (no NUL: UTF-8)
    assert translate(fake) == ["café"]


def test_a_fragment_vllm_aborted_is_retried_and_a_repetition_stop_is_an_answer(fake, tmp_path):
    from xling.backends.base import was_cut

    fake.mode = "abort"
    with pytest.raises(XlingError, match="finish_reason 'abort'"):
        translate(fake)
    assert fake.requests == 3
    fake.mode = "repetition"   # (vLLM's repetition stop: no budget ended it, nothing is retried)
    backend = HTTPBackend("fake-model", fake.url, max_retries=0)
    (answer,) = backend.generate([_request()], _greedy())
    assert answer == "fine fine" and not was_cut(answer)


def _request():
    from xling.backends.base import GenerationRequest, Prompt
    return GenerationRequest(Prompt(messages=(("user", "Translate: 안녕"),)), max_new_tokens=8)


def _greedy():
    from xling.backends.base import Decoding
    return Decoding()


def test_what_is_a_credential_in_a_url_and_a_key_option():
    """(reviews of audit round 22) run-together and camelCase credential names, long bare words,
    JWTs and key-like variable names; a gateway's settings and flags stay readable."""
    from xling.backends.http import key_like
    from xling.secrets import redact, url_secrets

    url = ("https://gw/v1?accessToken=abcdefgh&clientsecret=letterskey&SAS=sasvalue&xApiKey=qwertyui"
           "&MySuperSecretPassphrase&beta&project=news&region_code=europe")
    found = set(url_secrets(url, answers=True))
    assert {"abcdefgh", "letterskey", "sasvalue", "qwertyui", "MySuperSecretPassphrase"} <= found
    assert not {"beta", "news", "europe"} & found
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    assert redact(f"file {jwt} missing") == "file *** missing"
    assert key_like("a1b2c3d4e5f60718293a") and not key_like("AZUREOPENAIKEY01") and not key_like("MY_KEY_2024_ABCDEFG")


def test_a_key_a_server_echoes_json_escaped_is_hidden(fake):
    """A base64 key holding / came back as \\/ in a gateway's 401 body and was printed whole."""
    key = "AbCd/EfGh+IjKl=MnOp1234"
    fake.mode = "refuse:" + json.dumps({"message": f"Incorrect API key: {key}"}).replace("/", "\\/")
    backend = HTTPBackend("fake-model", fake.url, api_key=key, max_retries=0)
    with pytest.raises(XlingError) as caught:
        Translator(backend=backend, cache=False).translate(["하나"], "ko", "en")
    message = str(caught.value)
    assert "Incorrect API key: ***" in message and "EfGh" not in message and "MnOp" not in message


def test_a_key_in_a_cut_streams_quoted_tail_is_hidden(fake):
    """The last 1000 characters of a cut stream were quoted, cut before redaction: a key echoed
    just before them showed its last 18 characters."""
    key = "ABCDEFGHIJKLMNOPQRSTUVWX1234"

    def event(text):
        return 'data: {"choices": [{"delta": {"content": "' + text + '"}}]}\n\n'
    # the old 1000-character cut fell 10 characters into the key
    tail = 1000 - (len(key) - 10) - len('"}}]}\n\n')
    filler = "x" * (tail - len(event("")))
    fake.mode = "stream:" + event(key) + event(filler)
    backend = HTTPBackend("fake-model", fake.url, api_key=key, max_retries=0)
    with pytest.raises(XlingError, match="stopped before its end") as caught:
        Translator(backend=backend, cache=False).translate(["하나"], "ko", "en")
    assert "KLMNOPQRSTUVWX" not in str(caught.value) and "xxxx" in str(caught.value)


def test_a_gateways_routing_parameter_is_not_scrubbed_from_answers():
    """?project=news turned every "news" of every translation into *** (and cached it so); a
    credential's value and a key-shaped word still go."""
    def respond(payload):
        return ("The news today: tok-9f8e7d6c5b4a3f2e1d and SECRETVALUE1 here, an evaluation by the author "
                "(pwd hunter2, word MYWORD, region europe, a beta-blocker, /v1?sig%3DSECRETVALUE1abc).")

    server = FakeOpenAI(respond=respond)
    try:
        url = server.url + ("?project=news&sig=SECRETVALUE1&q9f=tok-9f8e7d6c5b4a3f2e1d&session=eval"
                            "&author=author&region_code=europe&pwd=hunter2&MYWORD&beta")
        backend = HTTPBackend("fake-model", url, max_retries=0)
        out = Translator(backend=backend, cache=False).translate(["하나"], "ko", "en")
    finally:
        server.close()
    # (a key-shaped secret goes wherever it stands, %3D-joined or run into letters; a short word only whole)
    assert out == ["The news today: *** and *** here, an evaluation by the author (pwd ***, word MYWORD, "
                   "region europe, a beta-blocker, /v1?sig%3D***abc)."]


def test_two_threads_sharing_one_server_backend_each_finish():
    """The first call to finish set the cancel event the other call's requests read: its next
    request raised KeyboardInterrupt."""
    import threading

    fast_done = threading.Event()

    def respond(payload):
        if "SLOW" in json.dumps(payload):
            fast_done.wait(10)
        return "ok"

    server = FakeOpenAI(respond=respond)
    results = {}
    try:
        backend = HTTPBackend("fake-model", server.url, max_retries=0, concurrency=2, timeout=30.0)
        translator = Translator(backend=backend, cache=False)

        def run(name, texts):
            try:
                results[name] = translator.translate(texts, "en", "ko")
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion
                results[name] = repr(exc)
            if name == "fast":
                fast_done.set()

        slow = threading.Thread(target=run, args=("slow", [f"SLOW {i}" for i in range(6)]))
        slow.start()
        run("fast", ["fast one", "fast two"])
        slow.join(30)
    finally:
        server.close()
    assert results == {"fast": ["ok", "ok"], "slow": ["ok"] * 6}


def test_candidates_drawn_before_a_failure_are_kept():
    """The 3rd candidate's failure dropped the two already paid for: a resume asked all 4 again."""
    from xling.backends.base import Sampling

    asked = []

    def respond(payload):
        asked.append(payload["seed"])
        if len(asked) == 3:
            raise RuntimeError("this request fails")   # the server hangs up
        return f"candidate {len(asked)}"

    server = FakeOpenAI(respond=respond)
    try:
        requests = [_request()]
        first = HTTPBackend("fake-model", server.url, max_retries=0, concurrency=1)
        kept = {}
        with pytest.raises(XlingError):
            first.candidates(requests, Sampling("sample", 1.0), [[0, 1, 2, 3]], on_item=lambda i, t: kept.update(t))
    finally:
        server.close()
    assert sorted(kept) == [0, 1]


def test_a_closed_backend_and_settings_given_as_a_dict_are_said(fake):
    with Translator("fake-model", backend="http", settings={"base_url": fake.url}, cache=False) as opened:
        assert opened.translate(["하나"], "ko", "en") == ["fine"]
    with pytest.raises(XlingError, match="was closed"):
        opened.translate(["둘"], "ko", "en")


def test_key_options_never_echo_what_may_be_the_key(tmp_path, monkeypatch, capsys):
    from helpers import run_cli

    from xling.backends.http import read_api_key

    google = "AIzaSyGOOGLEKEYabcdef0123456789XYZ"
    with pytest.raises(XlingError) as caught:
        read_api_key(None, google)
    assert google not in str(caught.value) and "No such file" in str(caught.value)
    with pytest.raises(XlingError, match="cannot read the API key file ~/keys/opneai.txt: No such file"):
        read_api_key(None, "~/keys/opneai.txt")   # a typo in a path: the path is shown
    hub = "hf_AbCdEfGhIjKlMnOpQrStUv"
    monkeypatch.delenv(hub, raising=False)
    with pytest.raises(XlingError) as caught:
        read_api_key(hub)
    assert hub not in str(caught.value) and "not set" in str(caught.value)
    (tmp_path / "key").write_bytes(b"\xef\xbb\xbfsk-BOMKEY123456789\r\n")   # Notepad's byte order mark
    assert read_api_key(None, str(tmp_path / "key")) == "sk-BOMKEY123456789"
    # a key given as a judge's key file is refused before a run folder records it
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "eval", "mt", "--langs", "ko,en", "--limit", "1", "--metrics", "chrf",
                           "--judge-api-key-file", hub, "-o", str(out))
    assert code == 2 and hub not in err and "takes the path of a file holding the key" in err
    assert not out.exists()


def test_a_hosts_case_is_no_part_of_the_cache_key(fake):
    upper = HTTPBackend("fake-model", fake.url.replace("127.0.0.1", "LOCALHOST"))
    lower = HTTPBackend("fake-model", fake.url.replace("127.0.0.1", "localhost"))
    assert upper.fingerprint == lower.fingerprint


def test_https_to_a_plain_http_server_names_the_tls_handshake(fake):
    """It said "is the server running?" of a server that was running (the model-list probe met
    the TLS failure first and kept it to itself)."""
    backend = HTTPBackend("fake-model", fake.url.replace("http://", "https://"), max_retries=0)
    with pytest.raises(XlingError, match="a TLS handshake failed: is the server plain http://"):
        Translator(backend=backend, cache=False).translate(["하나"], "ko", "en")


def test_an_answer_a_content_filter_stopped_is_marked_cut_and_said(tmp_path, capsys):
    """(audit round 24, D1) finish_reason "content_filter" was a whole answer: the cut
    translation was cached and printed with no note (and a cut judge answer scored)."""
    from xling.backends.base import was_cut
    from xling.store.cache import OutputCache

    server = FakeOpenAI(respond=lambda payload: ("T[저는", "content_filter"))
    try:
        for _ in range(2):
            cache = OutputCache(tmp_path / "cache.sqlite")
            translator = Translator(backend=HTTPBackend("fake-model", server.url, max_retries=0), cache=cache)
            (result,) = translator.translate_records(["저는 학생입니다."], "ko", "en")
            cache.close()
            assert result.text == "T[저는" and was_cut(result.raw) and translator.last_filtered == [1]
            assert translator.last_cut == [0]   # (round 26: not the token budget's doing)
            # (round 26) said as the filter's doing, never as the token budget's
            assert "1 of 1 translations stopped before the model ended them: 0 at their token budget, 1 by the " \
                "server's content filter" in capsys.readouterr().err
        assert server.requests == 1    # the mark survives the cache: a resumed run counts it again
        backend = HTTPBackend("fake-model", server.url, max_retries=0)
        backend.generate([_request(), _request()], _greedy())
        assert capsys.readouterr().err.count("content filter stopped an answer part-way") == 1
    finally:
        server.close()


def test_query_values_that_are_no_credentials_tell_identities_apart(tmp_path):
    """(audit round 24, D4) ?deployment_id=modelA and ?deployment_id=modelB shared one identity
    (every value but a short list of settings was ***): modelB was handed modelA's cached answer.
    Credentials stay out of the identity: another ?api_key= is the same server."""
    from xling.store.cache import OutputCache

    server = FakeOpenAI(respond=lambda payload: "answer")
    try:
        def fingerprint(query):
            backend = HTTPBackend("served", server.url + "?" + query, max_retries=0)
            cache = OutputCache(tmp_path / "cache.sqlite")
            Translator(backend=backend, cache=cache).translate(["저는 학생입니다."], "ko", "en")
            cache.close()
            return backend.fingerprint["base_url"]

        a, b = (fingerprint(f"deployment_id={name}&api_key=KEYONE123456") for name in ("modelA", "modelB"))
        assert server.requests == 2 and a != b
        for query in ("engine=e1", "route=gpt-4o-2024-08-06", "model_name=m", "provider=p"):
            assert fingerprint(query) != fingerprint(query[:-1] + "9")
        requests = server.requests
        assert fingerprint("deployment_id=modelA&api_key=KEYTWO654321") == a and server.requests == requests
        assert "modelA" not in a and "KEY" not in a and a.endswith("&api_key=***")
    finally:
        server.close()


def test_a_streamed_answer_with_several_choices_is_malformed_never_glued(fake):
    """(audit round 24, D5) choice 0's and choice 1's deltas were joined into one translation."""
    def event(index, text):
        return json.dumps({"choices": [{"index": index, "delta": {"content": text}, "finish_reason": "stop"}]})
    fake.mode = "stream:" + "".join(f"data: {event(i % 2, t)}\n\n" for i, t in
                                    enumerate(["저는 학", "<other0>", "생입니다.", "<other1>"])) + "data: [DONE]\n\n"
    with pytest.raises(XlingError, match=r"malformed answers .*2 streamed choices"):
        translate(fake)
    assert fake.requests == 3


def test_a_streams_later_events_keep_its_cut_and_comments_are_skipped(fake):
    """(audit round 24, D6) a usage event after finish_reason "length" made the cut answer a
    whole one; a stream opening with an SSE comment (": keep-alive") or an event: line was
    "not JSON", retried, and failed the run."""
    from xling.backends.base import was_cut

    fake.mode = ("stream:data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": "Das ist"}}]}) + "\n\n"
                 "data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}) + "\n\n"
                 "data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": None}],
                                        "usage": {"completion_tokens": 8}}) + "\n\ndata: [DONE]\n\n")
    (answer,) = HTTPBackend("fake-model", fake.url, max_retries=0).generate([_request()], _greedy())
    assert answer == "Das ist" and was_cut(answer)
    sse = FakeOpenAI.ANSWERS["sse"][1].decode()
    for opening in (": keep-alive\n\n", "event: message\n", "id: 1\nretry: 100\n"):
        fake.mode = "stream:" + opening + sse
        assert translate(fake) == ["fine"]


def test_at_most_four_stop_strings_are_sent_and_the_rest_cut_here():
    """(audit round 24, D7) a base-model judge sent 5 stop strings: OpenAI's /v1/completions takes
    at most 4 and refused the request. The longest ones stay unsent, and the answer is cut at
    them here, as before."""
    from xling.backends.base import GenerationRequest, Prompt

    server = FakeOpenAI(respond=lambda payload: "Critical:\nno-error\nYou are a long system line\nMajor:\nx")
    try:
        backend = HTTPBackend("fake-model", server.url, max_retries=0, chat=False)
        stops = ("\n\n\n", "\nAnswer:", "\nYou are a long system line", "\nFind the errors", "\nCritical:")
        (answer,) = backend.generate([GenerationRequest(Prompt(text="Answer:\n"), 64, stop=stops)], _greedy())
    finally:
        server.close()
    assert server.payloads[-1]["stop"] == ["\n\n\n", "\nAnswer:", "\nFind the errors", "\nCritical:"]
    assert answer == "Critical:\nno-error"


def test_a_message_given_as_text_parts_is_its_text(fake):
    """(audit round 24, D8) content as [{"type": "text", "text": ...}] (some gateways) was
    retried, then failed the run; any other part is still malformed."""
    fake.mode = "content-parts"
    assert translate(fake) == ["fine"] and fake.requests == 1
    fake.mode = "content-part-image"
    with pytest.raises(XlingError, match=r"malformed answers .*no text in choices\[0\]\.message\.content"):
        translate(fake)


@pytest.mark.parametrize("text, stops", [
    ("Bonjour. Translator's Note: hi", ("\n\n", "Note:", "Source:", "Target:", "Translator's Note:")),
    ("abc ### def", ("###", "## ", "#", "abc", "c ###")),
    ("x ab then bc", ("bc", "abc", "zz", "yy", "ww", "ab c")),
    ("Answer\nAnswer: x", ("\nAnswer", "\nAnswer:", "Q:", "A:", "\nAnswer: x")),
    ("one two three", ("o t", "two", "wo th", "e t", "ree", "hre")),
])
def test_the_stops_sent_never_end_an_answer_before_an_unsent_one_would(text, stops):
    """(review of audit round 24, F7) of 5 stops the 4 shortest were sent: "Note:" stopped the
    server inside "Translator's Note:", later than where every stop sent would have ended it."""
    from xling.backends.base import Decoding, GenerationRequest, Prompt
    from xling.backends.http import MAX_STOPS, HTTPBackend

    def respond(payload):   # a server applying the stops it is sent (the earliest), as vLLM does
        cut = min([text.find(s) for s in payload.get("stop", []) if s in text], default=-1)
        return (text[:cut], "stop") if cut >= 0 else (text, "length")

    server = FakeOpenAI(respond=respond)
    try:
        (answer,) = HTTPBackend("m", server.url, max_retries=0, chat=False).generate(
            [GenerationRequest(Prompt(text="x"), 64, stop=stops)], Decoding())
    finally:
        server.close()
    assert answer == text[:min([text.find(s) for s in stops if s in text], default=len(text))]
    assert len(server.payloads[-1].get("stop", [])) <= MAX_STOPS


def test_a_run_and_its_report_say_a_content_filters_cuts_as_such(tmp_path, capsys):
    """(review C of round 26) a run's outputs a server's content filter stopped were recorded as
    cut at the token budget: `report` said "2 outputs stopped at the token budget"."""
    from helpers import run_cli, write_corpus

    corpus = write_corpus(tmp_path, {"en": ["The cat sat.", "A dog ran."], "fr": ["Le chat.", "Un chien."]})
    server = FakeOpenAI(respond=lambda payload: ("Le chat", "content_filter"))
    try:
        code, _, err = run_cli(capsys, "eval", "mt", "--data", corpus, "-p", "en-fr", "--metrics", "chrf",
                               "--backend", "http", "--base-url", server.url, "-m", "served", "--max-retries", "0",
                               "--out", tmp_path / "run")
    finally:
        server.close()
    assert code == 0, err
    generation = json.loads((tmp_path / "run" / "metrics.json").read_text())["directions"]["en-fr"]["generation"]
    assert generation["cut_by_content_filter"] == 2 and "cut_at_budget" not in generation
    code, text, err = run_cli(capsys, "report", tmp_path / "run")
    assert code == 0 and "en-fr: 2 outputs stopped by the server's content filter (scored as cut)" in text
    assert "token budget" not in text
