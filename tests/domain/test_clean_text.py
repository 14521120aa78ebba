"""clean_text looks at a text a character at a time only when one search finds a character it
refuses (domain/rules.py REFUSED_ANYWHERE): that search must find exactly the characters the
reading refuses, so that no text passes unread that the reading would have refused."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.rules import BIDI_CONTROLS, REFUSED_ANYWHERE, clean_text

# Every code point, surrogates and controls included, and the neighbours of each refused range.
ANY_CHARACTER = st.one_of(st.characters(codec=None, categories=None),
                          st.sampled_from([chr(c) for c in (0x1F, 0x20, 0x7E, 0x7F, 0x9F, 0xA0,
                                                            0xD7FF, 0xD800, 0xDFFF, 0xE000, 0x2029,
                                                            0x202A, 0x202E, 0x202F, 0x2065, 0x2066,
                                                            0x2069, 0x206A)]))


def _refused(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cs"} or char in BIDI_CONTROLS


@given(ANY_CHARACTER)
def test_the_search_finds_exactly_the_characters_refused(char: str) -> None:
    assert (REFUSED_ANYWHERE.search(char) is not None) == _refused(char)


@given(st.text(ANY_CHARACTER, max_size=12), st.booleans())
def test_a_text_is_refused_exactly_when_it_holds_a_refused_character(text: str,
                                                                     multiline: bool) -> None:
    normalised = unicodedata.normalize("NFC", text)
    refused = [c for c in normalised if _refused(c) and not (multiline and c in "\n\r")]
    if refused:
        with pytest.raises(InvalidInput, match=f"U\\+{ord(refused[0]):04X}"):
            clean_text(text, "payee", multiline=multiline)
        return
    try:
        assert clean_text(text, "payee", multiline=multiline) == normalised
    except InvalidInput as error:  # only a text of invisible characters may still be refused
        assert "only invisible characters" in str(error)
