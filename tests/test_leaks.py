"""Credentials never reach a file xling writes or a message it prints (reliability round 3, cases
5-7): a judge server's URL credentials, a key in a URL's query string, and a key a server echoes
back in its answer."""
import json
import os
from pathlib import Path

import pytest
from helpers import assert_error, run_cli, write_corpus
from servers import FakeOpenAI

SOURCES = {"ko": ["저는 학생입니다.", "오늘 날씨가 좋네요."], "en": ["I am a student.", "The weather is nice today."]}


@pytest.fixture
def fake():
    server = FakeOpenAI()
    yield server
    server.close()


def assert_nowhere(secret: str, *roots: Path) -> None:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


def test_judge_server_credentials_are_not_stored(tmp_path, capsys, tiny_causal_base):
    judge = FakeOpenAI(respond=lambda payload: "No errors.\nScore: 80")
    try:
        corpus = write_corpus(tmp_path, SOURCES)
        url = f"http://bob:JudgePass4455@127.0.0.1:{judge.port}/v1"
        code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--data", corpus,
                               "--out", tmp_path / "R", "--metrics", "gemba-esa", "--judge-model", "judge",
                               "--judge-base-url", url)
    finally:
        judge.close()
    assert code == 0, err
    config = json.loads((tmp_path / "R" / "config.json").read_text(encoding="utf-8"))
    assert config["settings"]["judge_base_url"] == f"http://127.0.0.1:{judge.port}/v1"
    assert "JudgePass4455" not in err
    assert_nowhere("JudgePass4455", tmp_path / "R", Path(os.environ["XLING_CACHE"]))


def test_a_key_in_the_query_string_is_sent_but_never_stored_or_shown(tmp_path, capsys, fake):
    corpus = write_corpus(tmp_path, SOURCES)
    url = f"http://127.0.0.1:{fake.port}/v1?api_key=SECRETKEY77"
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "--backend", "http", "--base-url", url,
                           "-m", "fake-model", "--data", corpus, "--out", tmp_path / "R", "--metrics", "chrf")
    assert code == 0, err
    # The API path goes before the query, which travels with every request.
    assert set(fake.paths) == {"/v1/chat/completions?api_key=SECRETKEY77"}
    config = json.loads((tmp_path / "R" / "config.json").read_text(encoding="utf-8"))
    assert config["settings"]["base_url"] == f"http://127.0.0.1:{fake.port}/v1?api_key=***"
    assert_nowhere("SECRETKEY77", tmp_path / "R", Path(os.environ["XLING_CACHE"]))
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "--max-retries", "0",
                           "--base-url", "http://127.0.0.1:9/v1?key=SECRETKEY77", "-m", "fake-model", "안녕")
    line = assert_error(code, err, "cannot connect to http://127.0.0.1:9/v1?key=*** ")
    assert "SECRETKEY77" not in err and "/v1/v1" not in line


def test_a_key_echoed_in_an_answer_is_scrubbed_from_outputs_and_cache(tmp_path, capsys, fake, monkeypatch):
    key = "sk-test-ECHOED-0123456789"
    monkeypatch.setenv("XLING_API_KEY", key)
    fake.mode = "echo-auth"
    corpus = write_corpus(tmp_path, SOURCES)
    code, out, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "--backend", "http", "--base-url", fake.url,
                             "-m", "fake-model", "--data", corpus, "--out", tmp_path / "R", "--metrics", "chrf")
    assert code == 0, err
    records = [json.loads(line) for line in (tmp_path / "R" / "outputs" / "ko-en.jsonl").open(encoding="utf-8")]
    assert [r["raw"] for r in records] == ["Sure: Bearer ***"] * 2
    assert key not in out + err
    assert_nowhere(key, tmp_path / "R", Path(os.environ["XLING_CACHE"]))
    code, out, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "--base-url",
                             fake.url, "-m", "fake-model", "--no-cache", "안녕")
    assert code == 0 and out.strip() == "Sure: Bearer ***" and key not in err


def test_answers_keep_words_that_only_look_like_secrets(fake, monkeypatch):
    from xling.backends.http import HTTPBackend
    from xling.translation.translator import Translator

    fake.mode = "ok"   # answers "fine"; a user name in the URL is no secret to scrub from answers
    backend = HTTPBackend("fake-model", f"http://fine:pw-long-enough@127.0.0.1:{fake.port}/v1", api_key="abc")
    assert Translator(backend=backend, cache=False).translate(["안녕"], "ko", "en") == ["fine"]


# -- reliability round 4: every form a credential takes in a URL ---------------------------------
def _b64(text: str) -> str:
    import base64
    return base64.b64encode(text.encode()).decode()


URL_FORMS = {   # (what goes into the URL, every form it may come back in)
    "userinfo": ("bob:PASS4455@", "", ["PASS4455", _b64("bob:PASS4455")]),
    "percent-encoded password": ("bob:PW%40SECRET99@", "", ["PW%40SECRET99", "PW@SECRET99", _b64("bob:PW@SECRET99")]),
    "token as user name": ("TOKEN7788@", "", ["TOKEN7788", _b64("TOKEN7788:")]),
    "bare query word": ("", "?SECRET5566", ["SECRET5566"]),
    "percent-encoded query value": ("", "?key=a%2FSECRET3344", ["a%2FSECRET3344", "a/SECRET3344", "SECRET3344"]),
    # (audit round 20) a base64 key typed raw travels re-encoded (%2F, %3D): that form came back
    "raw base64 query value": ("", "?key=ab+cd/SECRET2211==", ["SECRET2211"]),
}


@pytest.mark.parametrize("form", URL_FORMS, ids=list(URL_FORMS))
def test_url_credentials_in_every_form_are_scrubbed(tmp_path, capsys, fake, form):
    userinfo, query, secrets = URL_FORMS[form]
    fake.mode = "echo-all"
    corpus = write_corpus(tmp_path, SOURCES)
    url = f"http://{userinfo}127.0.0.1:{fake.port}/v1{query}"
    code, out, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "--backend", "http", "--base-url", url,
                             "-m", "fake-model", "--data", corpus, "--out", tmp_path / "R", "--metrics", "chrf")
    assert code == 0, err
    records = [json.loads(line) for line in (tmp_path / "R" / "outputs" / "ko-en.jsonl").open(encoding="utf-8")]
    assert all(r["raw"].startswith("Sure: ") for r in records)   # the echo came back, scrubbed
    code2, out2, err2 = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "--base-url", url,
                                "-m", "fake-model", "--no-cache", "안녕")
    assert code2 == 0, err2
    fake.mode = "echo-all-error"
    code3, _, err3 = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "--base-url", url,
                             "-m", "fake-model", "--no-cache", "--max-retries", "0", "안녕")
    assert code3 != 0 and "400" in err3
    for secret in secrets:
        assert secret not in out + err + out2 + err2 + err3, secret
        assert_nowhere(secret, tmp_path / "R", Path(os.environ["XLING_CACHE"]))


def test_judge_url_credentials_never_reach_the_error_line(tmp_path, capsys, tiny_causal_base):
    judge = FakeOpenAI(mode="echo-all-error")
    try:
        corpus = write_corpus(tmp_path, SOURCES)
        url = f"http://bob:JudgePass4455@127.0.0.1:{judge.port}/v1"
        code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--data", corpus,
                               "--out", tmp_path / "R", "--metrics", "gemba-esa", "--judge-model", "judge",
                               "--judge-base-url", url, "--max-retries", "0")
    finally:
        judge.close()
    assert code != 0
    assert "JudgePass4455" not in err and _b64("bob:JudgePass4455") not in err
    assert_nowhere(_b64("bob:JudgePass4455"), tmp_path / "R", Path(os.environ["XLING_CACHE"]))


def test_python_logging_never_shows_url_credentials_or_query_keys(fake, caplog):
    """Audit round 10: with logging at INFO (a notebook's basicConfig), httpx logged every request
    URL with its user:password@ and ?api_key= value."""
    import logging

    from xling.backends.http import HTTPBackend
    from xling.translation.translator import Translator

    fake.mode = "ok"
    with caplog.at_level(logging.DEBUG):
        backend = HTTPBackend("fake-model", f"http://bob:PW-SECRET-777@127.0.0.1:{fake.port}/v1?api_key=QKEY-SECRET-888")
        assert Translator(backend=backend, cache=False).translate(["안녕"], "ko", "en") == ["fine"]
    assert "HTTP Request" in caplog.text          # httpx did log the requests
    assert "PW-SECRET-777" not in caplog.text and "QKEY-SECRET-888" not in caplog.text
    assert "PW-SECRET-777" not in backend.base_url


def test_the_judge_server_gets_its_own_key_never_the_translation_servers(tmp_path, capsys, fake, monkeypatch):
    """Audit round 10: one key from $OPENAI_API_KEY went to both --base-url and --judge-base-url,
    and the judge had no key options of its own."""
    monkeypatch.delenv("XLING_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-translation-server-key-1")
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-judge-server-key-2")
    judge = FakeOpenAI(respond=lambda payload: "Score: 80")
    try:
        corpus = write_corpus(tmp_path, SOURCES)
        code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "--backend", "http", "--base-url", fake.url,
                               "-m", "fake-model", "--data", corpus, "--out", tmp_path / "R", "--metrics",
                               "gemba-esa", "--judge-model", "judge", "--judge-base-url", judge.url,
                               "--judge-api-key-env", "MY_JUDGE_KEY")
    finally:
        judge.close()
    assert code == 0, err
    assert set(fake.authorizations) == {"Bearer sk-translation-server-key-1"}
    assert set(judge.authorizations) == {"Bearer sk-judge-server-key-2"}
    config = json.loads((tmp_path / "R" / "config.json").read_text(encoding="utf-8"))
    assert config["settings"]["judge_api_key_env"] == "MY_JUDGE_KEY"
    assert_nowhere("sk-judge-server-key-2", tmp_path / "R", Path(os.environ["XLING_CACHE"]))


def test_an_empty_user_part_in_the_url_leaves_the_key_in_place():
    from xling.backends.http import HTTPBackend

    backend = HTTPBackend("m", "http://@127.0.0.1:9/v1", api_key="sk-the-real-key-123")
    assert backend._client.auth is None and backend._client.headers["authorization"] == "Bearer sk-the-real-key-123"


MISTYPED_URLS = {   # (audit round 20) every one printed its key or password in the error line
    "port that is no number, key in the query": "http://127.0.0.1:99999/v1?api_key=SECRET0101",
    "password and a bad port": "http://u:SECRET0202@127.0.0.1:99999/v1",
    "unclosed IPv6 address": "http://[::1/v1?api_key=SECRET0303",
    "no scheme": "user:SECRET0404@127.0.0.1:9/v1",
    "scheme without its colon": "http//user:SECRET0505@127.0.0.1:9/v1",
    "a raw base64 password": "http://user:ab/SECRET0808+x==@127.0.0.1:9/v1",
}


@pytest.mark.parametrize("option", ["--base-url", "--judge-base-url"])
@pytest.mark.parametrize("form", MISTYPED_URLS, ids=list(MISTYPED_URLS))
def test_a_mistyped_url_is_refused_without_its_credentials(tmp_path, capsys, form, option):
    url = MISTYPED_URLS[form]
    secret = url.partition("SECRET")[2][:4]
    if option == "--base-url":
        args = ["translate", "-s", "ko", "-t", "en", "--backend", "http", "--base-url", url, "-m", "m", "안녕"]
    else:   # score and rescore read a judge's URL too: one line naming the option, never a traceback
        (tmp_path / "h.txt").write_text("a\n", encoding="utf-8")
        args = ["score", "-i", tmp_path / "h.txt", "-s", tmp_path / "h.txt", "-t", "en", "-m", "gemba-esa",
                "--judge-model", "j", "--judge-base-url", url]
    code, _, err = run_cli(capsys, *args)
    assert_error(code, err, option)
    assert f"SECRET{secret}" not in err


def test_a_key_given_as_the_variable_name_is_refused_unshown(tmp_path, capsys, tiny_causal_base):
    """--api-key-env takes a variable's name: a pasted key was echoed ("$sk-... is not set") and
    the judge's was written to config.json after every translation was made."""
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "-m", "m",
                           "--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "sk-proj-SECRET0606", "안녕")
    assert_error(code, err, "NAME of an environment variable")
    assert "SECRET0606" not in err
    corpus = write_corpus(tmp_path, SOURCES)
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--data", corpus,
                           "--out", tmp_path / "R", "--metrics", "gemba-esa", "--judge-model", "j",
                           "--judge-base-url", "http://127.0.0.1:9/v1", "--judge-api-key-env", "sk-proj-SECRET0707")
    assert_error(code, err, "NAME of an environment variable")
    assert "SECRET0707" not in err and not (tmp_path / "R").exists()


def test_adding_credentials_to_a_capitalised_host_resumes_the_run():
    """Adding a password to http://LocalHost changed the stored URL (its host lower-cased), so the
    run was refused as another config; a port that is no number crashed rescore's record."""
    from xling.runs.folder import same_setting
    from xling.secrets import redact_url

    made = {"model_fingerprint": {"model": "m", "base_url": redact_url("http://LocalHost:18101/v1")}}
    again = {"model_fingerprint": {"model": "m", "base_url": redact_url("http://u:PW@LocalHost:18101/v1")}}
    assert made != again and same_setting("model_fingerprint", made, again)
    other = {"model_fingerprint": {"model": "m", "base_url": "http://localhost:18102/v1"}}
    assert not same_setting("model_fingerprint", made, other)
    assert redact_url("http://u:PW@127.0.0.1:1x/v1?key=S") == "http://127.0.0.1:1x/v1?key=***"


def test_a_run_stored_with_settings_shown_and_other_values_hidden_resumes():
    """(review of audit round 24, F4) the released code stored ?api-version= as written and every
    other value as ***; that form was neither the current one nor the all-*** one: refused."""
    from xling.runs.folder import same_setting
    from xling.secrets import redact_url

    url = "http://127.0.0.1:45917/v1?api-version=2024-06-01&deployment_id=modelA"
    released = "http://127.0.0.1:45917/v1?api-version=2024-06-01&deployment_id=***"
    older = "http://127.0.0.1:45917/v1?api-version=***&deployment_id=***"
    for stored in (released, older):
        assert same_setting("base_url", {"base_url": stored}, {"base_url": redact_url(url)})
        assert same_setting("model_fingerprint", {"model_fingerprint": {"model": "m", "base_url": stored}},
                            {"model_fingerprint": {"model": "m", "base_url": redact_url(url)}})
    other = "http://127.0.0.1:45917/v1?api-version=2025-01-01&deployment_id=***"
    assert not same_setting("base_url", {"base_url": other}, {"base_url": redact_url(url)})


@pytest.mark.parametrize("field", ["appkey=3f9a8b7c", "app_key=3f9a8b7c", "ak=E4805d16", "sk=abc", "sign=9e107d9d",
                                   "signature=x", "sig=x", "pat=ghp_16C7e42F", "pin=1234", "otp=123456", "secret=x",
                                   "password=x", "passwd=x", "pwd=x", "auth=x", "authorization=x", "session=eval",
                                   "sessionid=x", "sid=123", "credential=x", "credentials=x", "client_secret=zzz",
                                   "authkey=abc", "privatekey=p4ss", "hmac=dead", "cred=abc", "ticket=ST-1", "skey=a1",
                                   "p=hunter22", "X-Goog-Signature=ab12",
                                   # (review F) numbered, and a few more names
                                   "pw2=hunter2", "passcode2=1234", "authcode=x", "psk=x", "key1=x", "mac=x",
                                   "digest=x", "salt=x"])
def test_credentials_under_common_names_are_hidden_never_digested(field):
    """(review of audit round 24, F5) ?pin=1234 was stored and shown as pin=~03ac674216f3, the
    first hex digits of sha256("1234")."""
    from xling.secrets import redact_url, shown_url

    name, _, value = field.partition("=")
    for form in (redact_url, shown_url):
        shown = form(f"https://gw.example/v1?{field}")
        assert shown == f"https://gw.example/v1?{name}=***"


@pytest.mark.parametrize("first, again", [
    ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261207&X-Amz-Date=20261207T090000Z"
     "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=3f1a9b2c",
     "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261207&X-Amz-Date=20261207T100000Z"
     "&X-Amz-Expires=7200&X-Amz-SignedHeaders=host&X-Amz-Signature=9e107d9d"),
    ("sp=r&st=2026-12-07T09:00Z&se=2026-12-07T10:00Z&spr=https&sv=2022-11-02&sr=b&sig=abc123",
     "sp=r&st=2026-12-07T10:00Z&se=2026-12-07T11:00Z&spr=https&sv=2022-11-02&sr=b&sig=def456"),
    ("Expires=1765098000&Signature=Ab1~Cd2&Key-Pair-Id=APKA1",
     "Expires=1765101600&Signature=Zz9~Yy8&Key-Pair-Id=APKA1"),
    ("X-Goog-Date=20261207T090000Z&X-Goog-Expires=600&X-Goog-Signature=ab", "X-Goog-Date=20261207T100000Z"
     "&X-Goog-Expires=900&X-Goog-Signature=cd"),
])
def test_a_re_signed_url_is_the_same_endpoint(first, again):
    """(review of audit round 24, F6) a signed URL's date, expiry and signature were digests in the
    stored URL: the same endpoint re-signed was another run and missed the cache."""
    from xling.runs.folder import same_setting
    from xling.secrets import redact_url, shown_url

    made, now = redact_url(f"https://b.example/v1?{first}"), redact_url(f"https://b.example/v1?{again}")
    assert made == now and "~" not in made
    assert same_setting("base_url", {"base_url": made}, {"base_url": now})
    assert all(field.endswith("=***") for field in shown_url(f"https://b.example/v1?{again}").split("?")[1].split("&"))
    # a route beside the signature still tells endpoints apart
    assert redact_url(f"https://b.example/v1?deployment_id=A&{first}") != \
        redact_url(f"https://b.example/v1?deployment_id=B&{first}")
