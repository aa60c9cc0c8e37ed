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
                        ("Deutsch", "de (German)")):
        with pytest.raises(XlingError, match=rf"unknown language code '{wrong}' \(did you mean {re.escape(hint)}"):
            resolve(wrong)   # round 16: a close match is named
    for wrong in ("ko-en", "afr_Latn", "kr"):   # a direction, another language's code: no guess
        with pytest.raises(XlingError, match=rf"unknown language code '{wrong}'; known"):
            resolve(wrong)
    with pytest.raises(XlingError, match=r"unknown language code 'xx'.*ko, ja"):
        resolve("xx")


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

    assert [resolve(c).code for c in ("de_DE", "de-DE", "pt-BR", "es-419", "ar_SA", "zh-HK")] == \
        ["de", "de", "pt", "es", "ar", "zh-Hant"]
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
