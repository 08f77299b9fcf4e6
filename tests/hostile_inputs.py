"""Hostile inputs for the gateway, generated combinatorially (not a test file).

Everything here is deterministic: the cases are built from fixed categories of "atoms" (injection
strings, invisible characters, broken Unicode, huge strings...) combined with fixed placements and
wrappers, so the same list comes out on every run. tests/test_hostile_inputs.py and
tests/browser/test_hostile_browser.py send them at the gateway.

`expected_clean` is an oracle written from the protocol document (docs/gateway-protocol.md), not a
copy of the gateway's code: the text a family message should reach Rasa as, with control, zero-width,
bidi, surrogate, private-use and unassigned characters removed, NFC-normalised and trimmed.
"""
from __future__ import annotations

import itertools
import json
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

MAX_CHARS = 2000  # settings.max_message_chars (MAX_MESSAGE_CHARS), the default the harness runs with
MAX_HTTP_BUFFER = 32 * 1024  # socketio max_http_buffer_size: SOCKET_BUFFER_BYTES, the default
JSON_LIMIT = 64 * 1024  # bot/gateway/security.py json_body: the console API's largest JSON body
CLIENT_MAX_SIZE = 256 * 1024  # aiohttp client_max_size in bot/gateway/app.py
RATE = (8, 20)  # RATE_LIMIT: 8 messages per 20 seconds

EMPTY_REPLY = "It looks like that message was empty. Type your question and press Send."
TOO_LONG_REPLY = ("That message is longer than I can take in one go (2000 characters). "
                  "Could you send it in shorter parts?")
TOO_FAST_REPLY = "You're sending messages faster than I can read them. Please wait a few seconds and try again."

# -- atoms, by category ----------------------------------------------------------------------------
# None of them contains "adviser" or "section 20": the scripted Rasa answers those specially.
ATOMS: Dict[str, List[str]] = {
    "script": [
        "<script>window.__pwned=1</script>",
        '<img src=x onerror="window.__pwned=1">',
        '"><svg onload=window.__pwned=1>',
        "<iframe srcdoc='<script>parent.__pwned=1</script>'></iframe>",
        "javascript:window.__pwned=1",
        '<a href="javascript:window.__pwned=1">click me</a>',
        "' onmouseover='window.__pwned=1' x='",
        "</p></div><style>*{display:none}</style>",
        "{{constructor.constructor('window.__pwned=1')()}}",
    ],
    "sql": [
        "' OR '1'='1",
        "'; DROP TABLE messages; --",
        '" UNION SELECT password_hash FROM users --',
        "1; UPDATE users SET role='staff' --",
        "%' AND 1=1 --",
    ],
    "control": [
        "\x00",
        "nul\x00in\x00the\x00middle",
        "\x07\x08\x1b[31mred\x1b[0m",
        "\r\n\r\nHTTP/1.1 200 OK\r\nSet-Cookie: x=1",
        "\x7f\x85\x9f",
    ],
    "invisible": [
        "\u202eoverride",  # right-to-left override
        "\u200b\u200c\u200d\ufeff",  # zero-width space, (non-)joiner, BOM
        "\u2066isolate\u2069\u061c",
        "\u00adsoft\u00adhyphen",
        "\u2028line\u2029para",
    ],
    "broken_unicode": [
        "\ud800",  # lone high surrogate (allowed by JSON's \\ud800 escape)
        "lone \udfff low",
        "\ue000\U000f0000",  # private use
        "\uffff\U0010ffff",  # non-characters
        "e\u0301" * 40,  # combining accents
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # emoji joined by zero-width joiners
    ],
    "format": [
        "%s%s%s%n%x",
        "{0}{position}{name!r}",
        "${7*7}#{7*7}",
        "\\u0000\\x00",
    ],
    "path": [
        "../../../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/restart",
        "/../../etc/passwd",
    ],
    "long": [
        "w" * (MAX_CHARS - 10),  # just under the limit once wrapped
        "x" * (MAX_CHARS + 1),  # just over
        "supercalifragilistic" * 150,  # a 3000-character word
        "\u200b" * (MAX_CHARS + 50) + "ok",  # over the limit only before cleaning
    ],
}

# placements: how an atom sits in a message
PLACEMENTS: List[Tuple[str, str]] = [("alone", "{}"), ("after_words", "my question is {}"),
                                     ("between_words", "before {} after")]


@dataclass(frozen=True)
class TextCase:
    name: str
    category: str
    text: str


def text_cases() -> List[TextCase]:
    """Every atom in every placement (the long ones alone and after words only)."""
    cases = []
    for category, atoms in ATOMS.items():
        for index, atom in enumerate(atoms):
            for place, pattern in PLACEMENTS:
                if category == "long" and place == "between_words":
                    continue
                cases.append(TextCase(f"{category}{index}-{place}", category, pattern.format(atom)))
    return cases


def expected_clean(raw: Any) -> str:
    """What Rasa should get for a family message (protocol: control/invisible characters removed)."""
    if not isinstance(raw, str):
        return ""
    kept = [c for c in unicodedata.normalize("NFC", raw)
            if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")]
    return "".join(kept).strip()


def expected_to_rasa(raw: Any) -> str:
    """What Rasa should get (protocol): the cleaned text; one starting with "/" that is not a button the
    bot offered (none is, in these tests) or rasa-webchat's /greet goes as plain words, its leading
    slashes and the spaces around them removed."""
    clean = expected_clean(raw)
    if clean == "/greet":
        return clean
    while clean.startswith("/"):
        clean = clean[1:].strip()
    return clean


def expected_reply(raw: Any) -> Optional[str]:
    """The refusal a family message should get (None: accepted), rate limit aside. The length is that of
    the text as sent, before cleaning."""
    if isinstance(raw, str) and len(raw) > MAX_CHARS:
        return TOO_LONG_REPLY
    if not expected_clean(raw) or not expected_to_rasa(raw):
        return EMPTY_REPLY
    return None


# -- wrong types and shapes for the socket.io events --------------------------------------------------
NON_STRINGS: List[Tuple[str, Any]] = [
    ("int", 42), ("negative", -1), ("float", 1.5), ("true", True), ("false", False), ("null", None),
    ("list", ["hello"]), ("empty_list", []), ("dict", {"text": "hello"}), ("nested", {"a": [{"b": {"c": None}}]}),
    ("empty_string", ""), ("spaces", "   \t\n  "), ("big_int", 10 ** 40),
]


def shape_cases() -> List[Tuple[str, str, Any]]:
    """(name, event, data) for the family events: wrong types in every field and wrong top-level data."""
    cases: List[Tuple[str, str, Any]] = []
    tops: List[Tuple[str, Any]] = [("none", None), ("string", "hello"), ("list", ["hello"]), ("int", 7),
                                   ("empty_dict", {})]
    for event in ("session_request", "user_uttered", "history_request", "user_typing", "feedback"):
        for name, data in tops:
            cases.append((f"{event}-top-{name}", event, data))
    fields = {"session_request": ["session_id"], "user_uttered": ["message", "session_id", "customData"],
              "history_request": ["after_seq", "session_id"], "user_typing": ["typing"],
              "feedback": ["message_id", "helpful"]}
    for event, names in fields.items():
        for field, (kind, value) in itertools.product(names, NON_STRINGS):
            if (event, field, kind) == ("history_request", "after_seq", "big_int"):
                continue  # a known bug, tested on its own (xfail) in test_hostile_inputs.py
            if (event, field, kind) in (("history_request", "after_seq", "true"),
                                        ("history_request", "after_seq", "false")):
                continue  # likewise
            cases.append((f"{event}-{field}-{kind}", event, {field: value}))
    # strings in id fields: injection, traversal, short and sequential ids
    for text in ("' OR '1'='1", "../../etc/passwd", "1", "2", "00000000", "<script>", "a" * 65, "\x00" * 30):
        cases.append((f"session_request-id-{text[:12]!r}", "session_request", {"session_id": text}))
        cases.append((f"feedback-id-{text[:12]!r}", "feedback", {"message_id": text, "helpful": True}))
    return cases


# -- HTTP bodies -------------------------------------------------------------------------------------
MALFORMED_JSON: List[Tuple[str, bytes]] = [
    ("truncated", b'{"available": tr'), ("not_json", b"available=true"), ("empty", b""),
    ("trailing_comma", b'{"text": "hi",}'), ("single_quotes", b"{'text': 'hi'}"),
    ("invalid_utf8", b'{"text": "\xff\xfe"}'), ("nul_bytes", b'{"text": "\x00"}'),
    ("nan", b'{"available": NaN}'), ("huge_number", b'{"available": 1e999999}'),
    ("deep_nesting", b"[" * 30000 + b"]" * 30000), ("top_string", b'"hello"'), ("top_number", b"123"),
    ("top_null", b"null"), ("top_list", b'[{"text": "hi"}]'), ("lone_surrogate", b'{"text": "\\ud800", "title": "\\udfff"}'),
    ("duplicate_keys", b'{"text": "a", "text": "b"}'),
    ("over_client_max_size", b'{"text": "' + b"x" * (CLIENT_MAX_SIZE + 10) + b'"}'),
    ("over_json_limit", b'{"text": "' + b"y" * (JSON_LIMIT + 10) + b'"}'),
]


def json_field_values() -> List[Tuple[str, Any]]:
    """Values put in every field of a JSON body: wrong types plus a sample of the hostile strings."""
    values = list(NON_STRINGS)
    for category, atoms in ATOMS.items():
        if category != "long":
            values.append((f"{category}0", atoms[0]))
    values.append(("long_text", "z" * 20000))
    return values


def form_cases() -> List[Tuple[str, Dict[str, Any]]]:
    """Login-form fields: each hostile string in each field."""
    cases = []
    for (name, value), field in itertools.product(json_field_values(), ("username", "password", "csrf")):
        if not isinstance(value, str):
            value = json.dumps(value)
        cases.append((f"{field}-{name}", {field: value}))
    return cases


RAW_PATHS: List[bytes] = [
    b"/static/..", b"/static/../app.py", b"/static/%2e%2e/app.py", b"/static/..%2fapp.py",
    b"/static/%2e%2e%2f%2e%2e%2fbot%2fsettings.py", b"/static/..\\app.py", b"/static/..%5capp.py",
    b"/widget.js/../app.py", b"/static/%00", b"/static/console.js%00.png", b"/static/.hidden",
    b"/static//etc/passwd", b"//etc/passwd", b"/static/%ff", b"/static/%c0%ae%c0%ae/app.py",
    b"/static/....//....//app.py", b"/vendor/../bot/settings.py", b"/static/widget.css?x=<script>",
    b"/static/%252e%252e%252fapp.py", b"/console/api/conversations/..%2f..%2fhealth",
]


def all_counts() -> Dict[str, int]:
    return {"text": len(text_cases()), "shapes": len(shape_cases()), "json_bodies": len(MALFORMED_JSON),
            "json_fields": len(json_field_values()), "form": len(form_cases()), "paths": len(RAW_PATHS)}


def iter_everything() -> Iterator[Any]:
    yield from text_cases()
    yield from shape_cases()
    yield from MALFORMED_JSON
    yield from form_cases()
    yield from RAW_PATHS
