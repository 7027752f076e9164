from dedup.normalize import normalize, token_text, tokens


def test_nfkc_quotes_dashes_case_and_space_are_folded():
    assert normalize("“Hello”\u00a0—  it’s ＦＵＬＬ\twidth") == "\"hello\" - it's full width"


def test_soft_hyphen_and_zero_width_are_dropped():
    assert normalize("co\u00adoperation\u200b") == "cooperation"


def test_ascii_and_unicode_paths_agree():
    assert normalize("Mixed CASE  text") == normalize("Mixed CASE  text\u200b")


def test_tokens_split_on_punctuation_and_symbols():
    assert tokens("Blinken said: 10,000 troops (approx.) — “soon”!") == [
        "blinken", "said", "10000", "troops", "approx", "soon",
    ]


def test_unspaced_scripts_become_character_tokens():
    assert tokens("北京欢迎你") == ["北", "京", "欢", "迎", "你"]
    assert len(tokens("สวัสดีครับ")) > 3


def test_combining_marks_stay_inside_words():
    assert tokens("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]


def test_emoji_and_underscores_separate():
    assert token_text(normalize("ok😀go snake_case")) == "ok go snake case"


def test_empty_text():
    assert tokens("  \n ") == []
    assert normalize("") == ""
