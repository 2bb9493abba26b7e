"""Chunking: sizes, boundaries, overlap, page numbers, and the token estimate."""

from __future__ import annotations

import itertools

import pytest

from launch.ai.chunking import Chunk, chunk_pages, chunk_text, estimate_tokens


def sentences(count: int, prefix: str = "Sentence") -> str:
    return " ".join(f"{prefix} number {i} says something short." for i in range(count))


def test_short_text_is_one_chunk() -> None:
    assert chunk_text("  Hello world.  ", size=100, overlap=10) == [
        Chunk(0, "Hello world.", None, {})
    ]


def test_chunks_respect_size_and_are_indexed_in_order() -> None:
    chunks = chunk_text(sentences(200), size=300, overlap=50)
    assert len(chunks) > 10
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(0 < len(c.content) <= 300 for c in chunks)


def test_chunks_end_at_sentence_boundaries_when_possible() -> None:
    chunks = chunk_text(sentences(100), size=250, overlap=0)
    assert all(c.content.endswith(".") for c in chunks)
    assert all(c.content.startswith("Sentence") for c in chunks)


def test_paragraph_breaks_win_over_sentence_breaks() -> None:
    first = "Alpha paragraph. " * 8
    text = f"{first.strip()}\n\n{'Beta paragraph. ' * 8}".strip()
    chunks = chunk_text(text, size=len(first) + 40, overlap=0)
    assert chunks[0].content == first.strip()
    assert chunks[1].content.startswith("Beta")


def test_overlap_repeats_the_end_of_the_previous_chunk_from_a_word_start() -> None:
    chunks = chunk_text(sentences(60), size=200, overlap=80)
    for previous, current in itertools.pairwise(chunks):
        head = current.content[:20]
        assert head in previous.content, (previous.content, current.content)
        assert current.content[0].isupper()  # starts at a sentence start


def test_no_overlap_covers_the_text_exactly_once() -> None:
    text = sentences(50)
    chunks = chunk_text(text, size=180, overlap=0)
    assert " ".join(c.content for c in chunks) == text


def test_text_without_spaces_is_hard_cut() -> None:
    chunks = chunk_text("x" * 1050, size=100, overlap=10)
    assert all(len(c.content) <= 100 for c in chunks)
    assert sum(len(c.content) for c in chunks) >= 1050


def test_never_produces_empty_chunks() -> None:
    pages = [(1, "   \n\n  "), (2, ""), (3, "Real text."), (4, "\n\n\n")]
    assert chunk_pages(pages, size=50, overlap=5) == [Chunk(0, "Real text.", 3, {})]
    assert chunk_pages([], size=50, overlap=5) == []
    text = "word\n\n\n\n" * 200
    assert all(c.content.strip() for c in chunk_text(text, size=30, overlap=10))


def test_chunks_keep_the_page_where_they_start() -> None:
    words = {1: "apple", 2: "banana", 3: "cherry"}
    pages = [(number, f"{word} " * 80) for number, word in words.items()]
    chunks = chunk_pages(pages, size=200, overlap=30)
    assert len(chunks) > 6
    for chunk in chunks:
        assert words[chunk.page_number or 0] == chunk.content.split()[0]


def test_a_chunk_spanning_pages_records_where_it_ends() -> None:
    chunks = chunk_pages([(4, "Short page four."), (5, "Short page five.")], size=500, overlap=0)
    assert chunks == [Chunk(0, "Short page four.\n\nShort page five.", 4, {"page_end": 5})]


def test_settings_supply_defaults() -> None:
    chunks = chunk_text(sentences(300))
    assert all(len(c.content) <= 1000 for c in chunks)
    assert max(len(c.content) for c in chunks) > 800


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_invalid_sizes_are_rejected(size: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="chunk"):
        chunk_text("text", size=size, overlap=overlap)


def test_estimate_tokens() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 25) == 25
    assert estimate_tokens("a") == 1
    # Non-ASCII text is denser in tokens than English.
    assert estimate_tokens("日本語のテキスト") == 4
    assert estimate_tokens("é" * 10) > estimate_tokens("e" * 10)
