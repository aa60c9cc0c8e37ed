import re

import pytest

from xling.data.languages import all_languages, check_direction, named_pairs, parse_pair, resolve
from xling.errors import XlingError

REQUIRED = "en ko ja zh zh-Hant th vi id de fr es ru ar hi ur sw bg el tr".split()


def test_all_required_languages_have_complete_rows():
    codes = {lang.code for lang in all_languages()}
    assert set(REQUIRED) <= codes
    for lang in all_languages():
        assert lang.flores.count("_") == 1 and lang.name and lang.native and lang.script
        assert lang.bleu_tokenizer in {"13a", "ko-mecab", "ja-mecab", "zh", "flores200", "char"}


@pytest.mark.parametrize("code", ["ko", "kor", "kor_Hang", "KOR_HANG", "kor-Hang", "ko-KR"])
def test_korean_resolves_from_every_spelling(code):
    assert resolve(code).code == "ko"


def test_targeted_languages_are_korean_and_english_only():
    assert {language.code for language in all_languages() if language.targeted} == {"en", "ko"}


def test_chinese_scripts_are_distinct():
    assert resolve("zh").flores == "zho_Hans"
    assert resolve("zho").flores == "zho_Hans"
    assert resolve("zh-TW").flores == "zho_Hant"
    assert resolve("zho_Hant").code == "zh-Hant"


def test_cjk_bleu_tokenizers():
    assert [resolve(c).bleu_tokenizer for c in ("ko", "ja", "zh", "en")] == ["ko-mecab", "ja-mecab", "zh", "13a"]


def test_unknown_code_names_the_known_ones():
    for wrong, hint in (("korean", "ko (Korean)"), ("englsh", "en (English)"), ("pt-br", "pt-BR? a region"),
                        ("Deutsch", "de (German)"),
                        # (round 26: its region is in capitals already; its language is not)
                        ("PT-BR", "pt-BR? a language code is written in lower case"),
                        ("PT-br", "pt-BR? a language code is written in lower case, a region in capitals")):
        with pytest.raises(XlingError, match=rf"unknown language code '{wrong}' \(did you mean {re.escape(hint)}"):
            resolve(wrong)   # round 16: a close match is named
    for wrong in ("ko-en", "afr_Latn", "kr"):   # a direction, another language's code: no guess
        with pytest.raises(XlingError, match=rf"unknown language code '{wrong}'; known"):
            resolve(wrong)
    with pytest.raises(XlingError, match=r"unknown language code 'xx'.*ko, ja"):
        resolve("xx")


def test_tags_with_a_script_and_region_in_any_case_resolve_or_get_their_spelling():
    """(audit round 25) BCP 47 is case-insensitive: zh-hant-tw, ZH-HANT-TW, sr-Latn-rs were unknown
    codes with no hint while ZH-HANT resolved. The language and script subtags are read in any case;
    a region in lower case is refused with its spelling, as pt-br is (zh-hant-ko is a direction)."""
    for code, want in (("ZH-HANT-TW", "zh-Hant"), ("Zh-Hant-TW", "zh-Hant"), ("zh-hant-TW", "zh-Hant"),
                       ("SR-LATN-RS", "sr-Latn"), ("sr-latn-RS", "sr-Latn"), ("KO-KORE-KR", "ko"), ("EN-LATN", "en"),
                       ("zh_hans_CN", "zh")):
        assert resolve(code).code == want, code
    for code, hint in (("zh-hant-tw", "zh-Hant-TW"), ("ZH-HANT-tw", "zh-Hant-TW"), ("zh-Hant-tw", "zh-Hant-TW"),
                       ("sr-Latn-rs", "sr-Latn-RS"), ("sr_latn_rs", "sr-Latn-RS")):
        with pytest.raises(XlingError, match=rf"^unknown language code '{code}' \(did you mean {hint}\? a region is "
                                             r"written in capitals\); known codes: "):
            resolve(code)
    for code in ("zh-hant-ko", "en-cyrl", "zh-latn-TW"):   # a direction; another script: no guess
        with pytest.raises(XlingError, match=rf"unknown language code '{code}'; known"):
            resolve(code)
    # in a direction, the side with the hint is named (was "unknown language code 'tw-en'")
    with pytest.raises(XlingError, match=r"unknown language code 'zh-hant-tw' \(did you mean zh-Hant-TW\?"):
        parse_pair("zh-hant-tw-en")
    assert parse_pair("ZH-HANT-TW-en").name == "zh-Hant-en"


def test_a_languages_name_and_a_countrys_code_get_a_suggestion():
    """(audit round 25) "chinese" got no "did you mean" (its names are "Chinese (Simplified)" and
    "Chinese (Traditional)"), nor did country codes written for a language's (jp, cn, ...)."""
    with pytest.raises(XlingError, match=r"'chinese' \(did you mean zh \(Chinese \(Simplified\)\) or zh-Hant "
                                         r"\(Chinese \(Traditional\)\)\?\); known codes"):
        resolve("chinese")
    with pytest.raises(XlingError, match=r"'Serbian' \(did you mean sr \(Serbian \(Cyrillic\)\) or sr-Latn "):
        resolve("Serbian")
    for country, code in (("jp", "ja"), ("cn", "zh"), ("ua", "uk"), ("vn", "vi"), ("cz", "cs"), ("dk", "da"),
                          ("gr", "el"), ("JP", "ja")):
        with pytest.raises(XlingError) as refused:
            resolve(country)
        message = str(refused.value)
        assert message.startswith(f"unknown language code '{country}' (did you mean {code} ({resolve(code).name})? "
                                  f"{country} is a country's code); known codes: ") and "\n" not in message
    with pytest.raises(XlingError, match=r"unknown language code 'jp' \(did you mean ja "):
        parse_pair("en-jp")


def test_pairs_parse_including_script_subtags():
    assert [language.code for language in parse_pair("zh-Hant-ko")] == ["zh-Hant", "ko"]
    assert [language.code for language in parse_pair("kor_Hang-eng_Latn")] == ["ko", "en"]
    with pytest.raises(XlingError, match="both ko"):
        check_direction("ko", "kor_Hang")
    assert len(named_pairs("direction_matrix")) == 12


def test_a_language_named_with_its_region_is_that_language_where_it_has_one_script():
    """-t de_DE (a WMT24++ locale) and pt-BR were unknown codes while ja_JP and en-US worked;
    zh-HK stays Traditional by its alias, and a region of a language written two ways (sr-ME),
    or a direction (ko-en), is no language."""
    from xling.data.languages import parse_pair

    # (round 27) ar_SA is a regional variety of Arabic, as WMT24++ has two (tests/test_locales.py)
    assert [resolve(c).code for c in ("de_DE", "de-DE", "pt-BR", "es-419", "ar_SA", "zh-HK")] == \
        ["de", "de", "pt", "es", "ar_SA", "zh-Hant"]
    for code in ("ko-en", "pt-br"):
        with pytest.raises(XlingError, match="unknown language code"):
            resolve(code)
    for code in ("sr-ME", "pa-PK", "pan_PK", "pa-586"):   # (Punjabi in Pakistan: Shahmukhi; round 23: the reason)
        with pytest.raises(XlingError, match="written in"):
            resolve(code)
    # (audit round 19) script and region together, the 639-2/B codes of zh and my, zh-SG and zh-MO
    codes = ("zh-Hant-TW", "zh-Hans-CN", "sr-Latn-RS", "sr-Cyrl-RS", "chi", "bur", "zh-SG", "zh-MO")
    assert [resolve(c).code for c in codes] == ["zh-Hant", "zh", "sr-Latn", "sr", "zh", "my", "zh", "zh-Hant"]
    assert parse_pair("zh-Hant-TW-en").src.code == "zh-Hant"
    # (audit round 20) a script subtag the language is written in anyway; Hebrew's old code iw
    codes = ("en-Latn", "en-Latn-US", "ja-Jpan", "ko-Kore", "ko-Hang-KR", "ru-Cyrl-RU", "iw")
    assert [resolve(c).code for c in codes] == ["en", "en", "ja", "ko", "ko", "ru", "he"]
    for code in ("en-Cyrl", "ru-Latn-RU", "pa-Arab", "zh-Latn"):   # (another script: not that language)
        with pytest.raises(XlingError, match="unknown language code"):
            resolve(code)
    assert parse_pair("en-de_DE").tgt.code == "de"


def test_a_region_that_does_not_name_the_script_is_refused_with_that_reason():
    """(audit round 23) sr-RS, sr-ME, sr-BA and pa-PK are refused on purpose (the region does not
    say which script), but the message said "unknown language code" of a language xling knows;
    and `-p pa-PK-en` named the fragment 'PK-en' left over after `pa`."""
    for code in ("sr-RS", "sr-ME", "sr-BA", "sr_RS"):
        with pytest.raises(XlingError) as refused:
            resolve(code)
        message = str(refused.value)
        assert message.startswith(f"{code}: Serbian is written in two scripts there") and "unknown" not in message
        assert "use sr (Cyrillic) or sr-Latn (Latin)" in message
    for code in ("pa-PK", "pa-586"):
        with pytest.raises(XlingError, match=rf"^{code}: Punjabi is written in another script there.*and xling "
                                             "has no Punjabi in that script$"):
            resolve(code)
    for pair in ("pa-PK-en", "en-pa-PK", "sr-RS-ko"):
        with pytest.raises(XlingError) as refused:
            parse_pair(pair)
        side = pair.replace("-en", "").replace("en-", "").replace("-ko", "")
        assert str(refused.value).startswith(f"{side}: ") and "PK-en" not in str(refused.value)
    # (review B) a side that resolves is never the one named: the other side's typo is
    for pair in ("zh-CN-englsh", "zh-TW-xx"):
        with pytest.raises(XlingError, match=f"unknown language code '{pair.split('-')[-1]}'"):
            parse_pair(pair)
    # what resolved stays so, and an unknown code is still named as such
    codes = ("sr-Latn-RS", "sr-Cyrl-RS", "pt-BR", "zh-TW")
    assert [resolve(c).code for c in codes] == ["sr-Latn", "sr", "pt", "zh-Hant"]
    with pytest.raises(XlingError, match="unknown language code 'xx'"):
        parse_pair("xx-en")
