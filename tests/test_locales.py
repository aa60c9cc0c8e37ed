"""(audit round 27) WMT24++ locales of one language (pt_BR and pt_PT, fr_CA and fr_FR, ar_EG and
ar_SA, sw_KE and sw_TZ) were both the plain language: the same prompt ("into Portuguese"), the
same outputs file (en-pt.jsonl), and the second locale's run took the first's answers from the
answer cache and was scored on them against its own references."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from helpers import xling
from servers import FakeOpenAI

from xling.data.languages import Direction, all_languages, parse_pair, resolve
from xling.data.parallel import load_parallel
from xling.metrics.offtarget import off_target
from xling.prompts.templates import load_template

PORTUGUESE = "A ponte foi aberta hoje e milhares de pessoas atravessaram-na a pé."
SOURCES = ["The bridge opened today.", "Thousands crossed it on foot.", "The mayor spoke at noon."]


def _write_locale(root: Path, locale: str, targets: list[str]) -> None:
    folder = root / "wmt24pp"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"lp": f"en-{locale}", "domain": "news", "document_id": "doc-a", "segment_id": i + 1,
             "is_bad_source": False, "source": s, "target": t, "original_target": t}
            for i, (s, t) in enumerate(zip(SOURCES, targets))]
    (folder / f"en-{locale}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                              encoding="utf-8")


@pytest.fixture
def portuguese(tmp_path):
    _write_locale(tmp_path, "pt_BR", ["A ponte foi inaugurada hoje.", "Milhares a atravessaram a pé.",
                                      "O prefeito falou ao meio-dia."])
    _write_locale(tmp_path, "pt_PT", ["A ponte foi inaugurada hoje.", "Milhares atravessaram-na a pé.",
                                      "O presidente da câmara falou ao meio-dia."])
    server = FakeOpenAI(respond=lambda payload: PORTUGUESE)
    yield tmp_path, server
    server.close()


def _eval(root: Path, server, data: str, out: Path, *more: str, metrics: str = "bleu"):
    return xling("eval", "mt", "--backend", "http", "--base-url", server.url, "--model", "fake", "--data", data,
                 "--data-dir", str(root), "--template", "mt-chat", "--metrics", metrics, "--limit", "1",
                 "-o", str(out), *more, env={"XLING_CACHE": str(root / "cache")})


def _user(payload: dict) -> str:
    return payload["messages"][-1]["content"]


def test_two_locales_of_a_language_get_their_own_prompt_outputs_and_answers(portuguese):
    """The auditor's repro: en-pt_BR then en-pt_PT, one answer cache."""
    root, server = portuguese
    for locale, out in (("pt_BR", "a"), ("pt_PT", "b")):
        result = _eval(root, server, f"wmt24pp:en-{locale}", root / "runs" / out, metrics="bleu,offtarget")
        assert result.returncode == 0, result.stderr.decode()
    # two requests: pt_PT's answer was not taken from pt_BR's in the cache
    assert server.requests == 2
    first, second = (_user(p) for p in server.payloads)
    assert first.startswith("Translate the following English text into Portuguese (Brazil).")
    assert second.startswith("Translate the following English text into Portuguese (Portugal).")
    for locale, out in (("pt_BR", "a"), ("pt_PT", "b")):
        run = root / "runs" / out
        assert [p.name for p in (run / "outputs").iterdir()] == [f"en-{locale}.jsonl"]
        config = json.loads((run / "config.json").read_text(encoding="utf-8"))
        assert config["directions"] == [f"en-{locale}"] and config["identity"]["varieties"] == [locale]
        entry = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["directions"][f"en-{locale}"]["metrics"]
        # scored as Portuguese: on target, BLEU's tokenizer Portuguese's
        assert entry["offtarget"]["score"] == 0.0
        assert "tok:13a" in entry["bleu"]["signature"]


def test_one_run_holds_both_locales_and_a_plain_language_is_ambiguous_there(portuguese):
    """wmt24pp:en-* left both locales out ("all Portuguese: load one by name"); now each is a
    direction of its own, with its own outputs and scores."""
    root, server = portuguese
    result = _eval(root, server, "wmt24pp:en-*", root / "both")
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(p.name for p in (root / "both" / "outputs").iterdir()) == ["en-pt_BR.jsonl", "en-pt_PT.jsonl"]
    metrics = json.loads((root / "both" / "metrics.json").read_text(encoding="utf-8"))["directions"]
    assert sorted(metrics) == ["en-pt_BR", "en-pt_PT"]
    assert sorted(_user(p).split(".")[0] for p in server.payloads) == [
        "Translate the following English text into Portuguese (Brazil)",
        "Translate the following English text into Portuguese (Portugal)"]
    # -p en-pt names neither: said, not guessed
    result = _eval(root, server, "wmt24pp:en-*", root / "plain", "-p", "en-pt")
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    assert result.stderr.decode().strip().splitlines() == [
        "xling: error: wmt24pp:en-* has Portuguese in 2 regional varieties (pt_BR, pt_PT): name the one to "
        "translate into, e.g. en-pt_BR"]
    assert not (root / "plain").exists()


def test_one_locale_named_as_its_language_is_that_locale(portuguese):
    """-p en-pt (or en-pt-BR) over wmt24pp:en-pt_BR, as earlier experiment files wrote it: the
    data has Portuguese only as pt_BR, so that is the direction."""
    root, server = portuguese
    result = _eval(root, server, "wmt24pp:en-pt_BR", root / "one", "-p", "en-pt")
    assert result.returncode == 0, result.stderr.decode()
    assert [p.name for p in (root / "one" / "outputs").iterdir()] == ["en-pt_BR.jsonl"]
    assert "into Portuguese (Brazil)." in _user(server.payloads[-1])


def test_a_plain_data_set_keeps_its_language_and_prompt(tmp_path):
    """FLORES-style data has one Portuguese: -p en-pt_BR over it is en-pt, with the prompt and
    outputs it always had (its cache and run identity unchanged)."""
    for code, line in (("en", SOURCES[0]), ("pt", "A ponte foi inaugurada hoje.")):
        (tmp_path / f"x.{code}").write_text(line + "\n", encoding="utf-8")
    server = FakeOpenAI(respond=lambda payload: PORTUGUESE)
    try:
        result = _eval(tmp_path, server, f"text:{tmp_path}/x.{{lang}}", tmp_path / "run", "-p", "en-pt_BR")
    finally:
        server.close()
    assert result.returncode == 0, result.stderr.decode()
    assert [p.name for p in (tmp_path / "run" / "outputs").iterdir()] == ["en-pt.jsonl"]
    assert _user(server.payloads[0]) == ("Translate the following English text into Portuguese. Reply with the "
                                         f"translation only.\n\n{SOURCES[0]}")
    assert "varieties" not in json.loads((tmp_path / "run" / "config.json").read_text())["identity"]


def test_varieties_resolve_round_trip_and_score_as_their_language():
    br, pt = resolve("pt_BR"), resolve("pt")
    assert (br.code, br.name, br.native, br.plain) == ("pt_BR", "Portuguese (Brazil)", "Português (Brasil)", pt)
    assert resolve("ar_EG").name == "Arabic (Egypt)" and resolve("sw_TZ").name == "Swahili (Tanzania)"
    assert resolve("fr_CA").bleu_tokenizer == resolve("fr").bleu_tokenizer
    # other spellings and locales are the language, as before (zh_TW: Traditional Chinese)
    codes = ("pt-BR", "ko_KR", "de_DE", "es_MX", "zh_TW")
    assert [resolve(c).code for c in codes] == ["pt", "ko", "de", "es", "zh-Hant"]
    for name in ("en-pt_BR", "pt_PT-en", "fr_CA-fr_FR"):
        assert Direction.parse(name).name == name
    assert parse_pair("en-pt_BR") != parse_pair("en-pt_PT")
    assert off_target([PORTUGUESE], "pt_PT").score == 0.0 and off_target(["The bridge opened."], "pt_BR").score == 100


def test_a_template_in_the_target_language_names_the_variety():
    """mt-chat-target-lang has a French instruction, none for Canadian French: the French one,
    with the variety named in French after it."""
    template = load_template("mt-chat-target-lang")
    en = resolve("en")
    rendered = {code: template.render_translation(en, resolve(code), "Hello.").messages[-1][1]
                for code in ("fr", "fr_CA", "fr_FR")}
    instruction = "Traduis le texte suivant en français. Réponds uniquement avec la traduction."
    assert rendered["fr"] == f"{instruction}\n\nHello."
    assert rendered["fr_CA"] == f"{instruction} [Français (Canada)]\n\nHello."
    assert rendered["fr_FR"] == f"{instruction} [Français (France)]\n\nHello."


# sha256 of every built-in translation template's prompts for English into and out of every
# language xling lists, rendered by the code before round 27 (/work/main at aab379a; the same
# digest on round27 at 57f210c)
PROMPTS_BEFORE = "486b47c025af8b48a618805db803c4a46185b616c02c386bd52cfdcdd8813738"


def _all_prompts() -> str:
    digest = hashlib.sha256()
    en = resolve("en")
    for name in ("mt-chat", "mt-chat-target-lang", "mt-completion", "mt-document-chat", "mt-document-completion"):
        template = load_template(name)
        for lang in all_languages():
            for src, tgt in ((en, lang), (lang, en)):
                # (into zh under mt-chat-target-lang: "简体中文" since round 27, on purpose, in another fix)
                if src == tgt or (name == "mt-chat-target-lang" and tgt.code == "zh"):
                    continue
                try:
                    prompt = template.render_translation(src, tgt, "Hello.", shots=[("One.", "Uno.")])
                except Exception as exc:   # (a target without an instruction: its message is part of it)
                    digest.update(f"{name} {src.code}-{tgt.code} {exc}".encode())
                    continue
                digest.update(json.dumps([name, src.code, tgt.code, prompt.text, prompt.messages],
                                         ensure_ascii=False).encode())
    return digest.hexdigest()


def test_prompts_of_every_listed_language_are_byte_for_byte_as_before():
    assert _all_prompts() == PROMPTS_BEFORE


def test_a_locale_run_made_before_varieties_is_refused_on_resume(portuguese):
    """A folder of wmt24pp:en-pt_BR made before round 27 asked "into Portuguese" and wrote
    en-pt.jsonl: resuming it would mix two prompts. Its identity has no varieties key."""
    root, server = portuguese
    run = root / "runs" / "old"
    assert _eval(root, server, "wmt24pp:en-pt_BR", run).returncode == 0
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    del config["identity"]["varieties"]      # as the old code wrote it
    config["identity"]["data_sha256"] = "0" * 64
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    result = _eval(root, server, "wmt24pp:en-pt_BR", run)
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    err = result.stderr.decode()
    assert "differs in: varieties)" in err and "named with its region in the prompt" in err, err
    assert "--overwrite" in err
    assert _eval(root, server, "wmt24pp:en-pt_BR", run, "--overwrite").returncode == 0


def test_every_published_locale_has_a_language_of_its_own():
    """(the dataset card's 55 locales) no two share a language now: en-* loads them all."""
    from xling.data.wmt import locale_language

    published = ("ar_EG ar_SA bg_BG bn_IN ca_ES cs_CZ da_DK de_DE el_GR es_MX et_EE fa_IR fi_FI fil_PH "
                 "fr_CA fr_FR gu_IN he_IL hi_IN hr_HR hu_HU id_ID is_IS it_IT ja_JP kn_IN ko_KR lt_LT "
                 "lv_LV ml_IN mr_IN nl_NL no_NO pa_IN pl_PL pt_BR pt_PT ro_RO ru_RU sk_SK sl_SI sr_RS "
                 "sv_SE sw_KE sw_TZ ta_IN te_IN th_TH tr_TR uk_UA ur_PK vi_VN zh_CN zh_TW zu_ZA").split()
    assert len({locale_language(loc).code for loc in published}) == 55


def test_load_parallel_keys_each_locale_by_its_variety(portuguese):
    root, _ = portuguese
    data = load_parallel("wmt24pp:en-*", root)
    assert data.default_pairs == ["en-pt_BR", "en-pt_PT"]
    assert data.text("pt_PT")[2] == "O presidente da câmara falou ao meio-dia."


def test_a_variety_spelt_in_lower_case_is_suggested_as_the_variety():
    """(review D of round 27) pt_br suggested pt-BR, which is plain Portuguese."""
    for typed, meant in (("pt_br", "pt_BR"), ("ar_eg", "ar_EG"), ("fr_ca", "fr_CA")):
        with pytest.raises(Exception, match=f"did you mean {meant}\\?"):
            resolve(typed)


def test_a_variety_takes_its_languages_flores_demonstrations(portuguese):
    """(review C of round 27) WMT24++ has no dev split: a variety's demonstrations come from FLORES-200
    dev, which has the language only; `-k 1` on wmt24pp:en-pt_BR was refused ("no Portuguese (Brazil)")."""
    root, server = portuguese
    dev = root / "flores200" / "dev"
    dev.mkdir(parents=True)
    (dev / "eng_Latn.dev").write_text("The river is wide.\nIt rained all day.\n", encoding="utf-8")
    (dev / "por_Latn.dev").write_text("O rio é largo.\nChoveu o dia todo.\n", encoding="utf-8")
    result = _eval(root, server, "wmt24pp:en-pt_BR", root / "runs" / "k1", "-k", "1")
    assert result.returncode == 0, result.stderr.decode()
    assert any("O rio é largo." in m["content"] or "Choveu o dia todo." in m["content"]
               for m in server.payloads[0]["messages"])
    assert "Portuguese (Brazil)" in _user(server.payloads[0])
