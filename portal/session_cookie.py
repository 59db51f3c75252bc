"""The session cookie's payload, worked out once per process for each content it holds (issue 17).

Flask signs the session cookie again on every answer to keep its expiry sliding
(`security._SessionCookies`), and reads it on every request. A signed-in person's cookie holds the
same few values request after request (the sign-in token, Flask-Login's keys, the CSRF secret), so
the payload part of the cookie (tagged JSON, a trial zlib compression, base64) comes out the same
each time: ~20 µs of each page's ~2 ms to write and about half that to read, for nothing. What
changes on every answer (the timestamp and the signature over it) is still made on every answer,
and a cookie is still read only after its signature and age have been checked.

Only a session whose values are all plain strings, integers or booleans is remembered: such a
payload is a pure function of the values and their order, and the decoded dict can be copied
without sharing anything mutable between requests. Anything else (a date, a list, a nested dict)
goes through itsdangerous as before.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import URLSafeTimedSerializer

_PLAIN = (str, int, bool)  # bool is an int, listed for the reader
# A process answers many people; past this many contents the memory starts again from empty.
_REMEMBERED = 4096


def _plain_key(obj: Any) -> tuple[tuple[str, type, Any], ...] | None:
    """The session's items with each value's type, when every key is a str and every value a
    plain str/int/bool. The type is part of the key because `True == 1` (and they hash alike):
    without it a session holding `1` would be given the payload written for `True`."""
    if type(obj) is not dict:
        return None
    items = tuple((name, type(value), value) for name, value in obj.items())
    for name, kind, _value in items:
        if type(name) is not str or kind not in _PLAIN:
            return None
    return items


class RememberingSerializer(URLSafeTimedSerializer):
    """`URLSafeTimedSerializer` whose payloads (not signatures) are kept per content: the cookie it
    writes and the session it reads are byte for byte and value for value the same as without."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dumped: dict[tuple[tuple[str, type, Any], ...], bytes] = {}
        self._loaded: dict[bytes, dict[str, Any]] = {}

    def dump_payload(self, obj: Any) -> bytes:
        key = _plain_key(obj)
        if key is None:
            return super().dump_payload(obj)
        payload = self._dumped.get(key)
        if payload is None:
            if len(self._dumped) >= _REMEMBERED:
                self._dumped.clear()
            payload = self._dumped[key] = super().dump_payload(obj)
        return payload

    def load_payload(self, payload: bytes, *args: Any, **kwargs: Any) -> Any:
        """Called by `loads` only after the signature (and the age) was checked."""
        if args or kwargs or type(payload) is not bytes:
            return super().load_payload(payload, *args, **kwargs)
        loaded = self._loaded.get(payload)
        if loaded is None:
            value = super().load_payload(payload)
            if _plain_key(value) is None:
                return value
            if len(self._loaded) >= _REMEMBERED:
                self._loaded.clear()
            loaded = self._loaded[payload] = value
        return dict(loaded)  # each request gets its own session dict
