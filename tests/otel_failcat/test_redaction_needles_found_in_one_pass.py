"""The redactor finds the needles of its rules in one pass exactly as a test per needle would.

With RE2 installed all needles are found by one automaton; texts RE2 cannot read (lone
surrogates) fall back to a substring test per needle. Both must give the same set.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from otel_failcat.redaction import Redactor
from otel_failcat.redaction._redactor import _needle_finder

_NEEDLES = Redactor()._needles


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.sampled_from(_NEEDLES)
        | st.text(alphabet=st.characters(blacklist_categories=()), max_size=6)
        | st.just("\ud800"),
        max_size=20,
    )
)
def test_the_needles_found_are_those_a_substring_test_finds(pieces: list[str]) -> None:
    text = "".join(pieces).lower()
    assert _needle_finder(_NEEDLES)(text) == {n for n in _NEEDLES if n in text}


def test_a_text_with_a_lone_surrogate_still_shows_its_needles() -> None:
    assert _needle_finder(_NEEDLES)("bearer \ud800 token") == {"bearer", "token"}
