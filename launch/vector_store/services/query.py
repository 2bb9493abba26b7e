"""The keyword side's query text, bounded before PostgreSQL parses it.

`websearch_to_tsquery` turns every word of its input into a node of one tsquery, and
`ts_rank_cd` walks every node for every matching row. Unbounded, a 32,000-character chat
message (thousands of repeated words, or an `or` chain) held PostgreSQL for close to a
minute on 64 chunks. So the text is reduced first, in Python:

- tokens are split as websearch reads them (a quoted phrase, a `-word`, `or`, a word),
  so the syntax of a typed search keeps its meaning;
- a token seen before (case-insensitively) is dropped, and so are repeated `or`s;
- at most `VECTOR_KEYWORD_MAX_TERMS` words are kept, in order (a phrase counts its
  words); the rest of the text is ignored by the keyword side (the semantic side still
  embeds the whole text).

The result is at most that many tsquery nodes, whatever the input: cheap to rank.
"""

from __future__ import annotations

import re

# A quoted phrase, perhaps negated (its closing quote may be missing, as websearch
# allows), or a run of anything that is neither space nor quote.
_TOKEN = re.compile(r'-?"[^"]*"?|[^\s"]+')
_WORD = re.compile(r"\w+")


def bounded_keyword_text(text: str, *, max_terms: int) -> str:
    """`text` reduced to its first `max_terms` distinct words, websearch syntax kept."""
    kept: list[str] = []
    seen: set[tuple[bool, bool, tuple[str, ...]]] = set()
    budget = max(1, max_terms)
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token.casefold() == "or":
            if kept and kept[-1] != "or":
                kept.append("or")
            continue
        words = list(_WORD.finditer(token))
        if not words:
            continue  # punctuation alone: the parser ignores it as well
        phrase = token.lstrip("-").startswith('"')
        if len(words) > budget:
            # Cut after the last word that fits; a phrase keeps its closing quote.
            token = token[: words[budget - 1].end()] + ('"' if phrase else "")
            words = words[:budget]
        key = (token.startswith("-"), phrase, tuple(w.group().casefold() for w in words))
        if key in seen:
            continue
        seen.add(key)
        kept.append(token)
        budget -= len(words)
        if budget == 0:
            break
    while kept and kept[-1] == "or":
        kept.pop()
    return " ".join(kept)
