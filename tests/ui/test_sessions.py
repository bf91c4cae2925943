"""The session rules on their own: expiry, the bound on sessions, the token compared, and where
sign-in may send a browser afterwards."""

from __future__ import annotations

from collector_receiver.ui._sessions import MAX_SESSIONS, SessionStore, safe_next


def test_a_session_expires_and_is_forgotten() -> None:
    now = [1000.0]
    sessions = SessionStore("secret", clock=lambda: now[0], lifetime=60)
    session = sessions.open()
    assert sessions.valid(session) and "secret" not in session
    now[0] += 59
    assert sessions.valid(session)
    now[0] += 1
    assert not sessions.valid(session)
    assert not sessions.valid(session)  # stays gone


def test_sign_out_ends_only_its_session() -> None:
    sessions = SessionStore("secret")
    first, second = sessions.open(), sessions.open()
    assert first != second
    sessions.close(first)
    assert not sessions.valid(first) and sessions.valid(second)
    assert not sessions.valid(None) and not sessions.valid("")


def test_the_oldest_session_ends_beyond_the_bound() -> None:
    sessions = SessionStore("secret")
    opened = [sessions.open() for _ in range(MAX_SESSIONS + 1)]
    assert not sessions.valid(opened[0])
    assert all(sessions.valid(s) for s in opened[1:])


def test_the_token_must_match_exactly() -> None:
    sessions = SessionStore("secret")
    assert sessions.token_matches("secret") and sessions.token_matches(" secret\n")
    assert not sessions.token_matches("secre") and not sessions.token_matches("secret2")


def test_after_sign_in_only_paths_of_this_receiver() -> None:
    assert safe_next("/failures?service=a") == "/failures?service=a"
    for target in (None, "", "//evil.example/", "https://evil.example/", "/\\evil", "failures"):
        assert safe_next(target) == "/", target
