"""Step segmentation and char-span -> token-index mapping (seekmath.rl.segment)."""

from __future__ import annotations

import pytest

from seekmath.rl.segment import (
    char_spans_to_token_ends,
    offsets_by_decoding,
    response_token_offsets,
    split_steps,
    step_end_token_indices,
    step_prefixes,
    step_texts,
)

SOLUTION = " Mia starts with 5 apples.\nAfter getting 3 more, she has 5 + 3 = 8 apples.\nThe answer is \\boxed{8}."


def test_lines_hand_computed():
    text = " a = 1\n\n b = 2 \nc"
    # " a = 1" -> chars 1..6 ; blank line skipped ; " b = 2 " -> 9..14 ; "c" -> 16..17
    assert split_steps(text) == [(1, 6), (9, 14), (16, 17)]
    assert step_texts(text) == ["a = 1", "b = 2", "c"]


def test_paragraphs_and_regex():
    text = "x\ny\n\n  \nz"
    assert step_texts(text, "paragraphs") == ["x\ny", "z"]
    assert split_steps(text, "paragraphs") == [(0, 3), (8, 9)]
    assert step_texts("One. Two. Three", r"regex:(?<=\.)\s+") == ["One.", "Two.", "Three"]
    assert step_texts("a;b;;c", "regex:;") == ["a", "b", "c"]


def test_empty_and_whitespace_only():
    assert split_steps("") == []
    assert split_steps(" \n\n\t ") == []
    assert split_steps("no newline") == [(0, 10)]


def test_bad_rules_are_named():
    with pytest.raises(ValueError, match="unknown step rule 'sentences'"):
        split_steps("a", "sentences")
    with pytest.raises(ValueError, match="invalid regular expression"):
        split_steps("a", "regex:(")
    with pytest.raises(ValueError, match="matches the empty string"):
        split_steps("a", "regex:x*")


def test_step_prefixes_keep_separator():
    text = "s1\ns2\n\ns3"
    assert step_prefixes(text) == ["s1\n", "s1\ns2\n\n", "s1\ns2\n\ns3"]


def test_char_spans_to_token_ends_hand_computed():
    # tokens: [BOS zero-width] "ab" "c\n" "de" "f" [EOS zero-width]
    offsets = [(0, 0), (0, 2), (2, 4), (4, 6), (6, 7), (7, 7)]
    # step "abc" = (0,3): last char 2 is in token 2 ("c\n"); step "def" = (4,7): last char 6 -> token 4
    assert char_spans_to_token_ends(offsets, [(0, 3), (4, 7)]) == [2, 4]
    # a span whose last char is not covered falls back to the last token starting before it
    assert char_spans_to_token_ends([(0, 2), (5, 6)], [(0, 4)]) == [0]
    with pytest.raises(ValueError, match="before the first token"):
        char_spans_to_token_ends([(3, 4)], [(0, 2)])


@pytest.fixture(scope="module")
def tok():
    from seekmath.models import train_tokenizer

    return train_tokenizer([SOLUTION] * 5 + ["She has 12 marbles.\nThe answer is \\boxed{12}."] * 5, vocab_size=300)


def test_tokenizer_offsets_map_steps_to_tokens(tok):
    ids = tok(SOLUTION, add_special_tokens=False)["input_ids"]
    ends = step_end_token_indices(tok, ids + [tok.eos_token_id], SOLUTION)
    assert len(ends) == 3
    pieces = tok.convert_ids_to_tokens(ids)
    # each step ends on a token whose text contains the step's last character ('.' each time)
    for e in ends:
        assert "." in pieces[e]
    # the last step ends before the EOS token, the first before the second
    assert ends == sorted(ends) and ends[-1] < len(ids)
    # decoding the ids up to and including each end token reproduces the text through that step
    for (s, e), t in zip(split_steps(SOLUTION), ends):
        assert tok.decode(ids[: t + 1]).rstrip("\n") == SOLUTION[:e]


def test_decoding_offsets_agree_with_offset_mapping(tok):
    enc = tok(SOLUTION, add_special_tokens=False, return_offsets_mapping=True)
    assert offsets_by_decoding(tok, enc["input_ids"]) == [tuple(o) for o in enc["offset_mapping"]]


def test_non_canonical_ids_use_decoding(tok):
    # spell the text one character-token at a time: not the canonical BPE tokenisation
    text = " apples.\n apples."
    ids = [tok.convert_tokens_to_ids({"\n": "Ċ", " ": "Ġ"}.get(c, c)) for c in text]
    assert tok.decode(ids) == text
    assert ids != tok(text, add_special_tokens=False)["input_ids"]
    offs = response_token_offsets(tok, ids, text)
    assert offs == [(i, i + 1) for i in range(len(text))]
    assert step_end_token_indices(tok, ids, text) == [7, 16]


def test_text_beyond_ids_is_clamped(tok):
    ids = tok("ab.\n", add_special_tokens=False)["input_ids"]
    # the text says there is a second step the ids never produced: clamp to the last token
    assert step_end_token_indices(tok, ids, "ab.\ncd.")[-1] == len(ids) - 1
    assert step_end_token_indices(tok, ids, "   ") == []
