"""The one TOTP helper: what a therapist's authenticator app shows (AU-08).

Codes are computed here from RFC 6238 (HMAC-SHA1, 6 digits, 30-second steps), independently of
the server's own `second_factor` code, so a bug there cannot hide itself in the tests. (pyotp is
not used: it refuses the demo's short published secret.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

from sqlalchemy.orm import Session

from portal.auth.second_factor import time_step
from portal.db import utcnow
from portal.models import User

# Every therapist made by tests.support.rows has this authenticator secret.
TOTP_SECRET = "TESTTOTPSECRETFORTHERAPISTS23456"


def authenticator_code(secret: str = TOTP_SECRET, *, step_offset: int = 0) -> str:
    """The code shown `step_offset` 30-second steps from now."""
    step = time_step(utcnow()) + step_offset
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def fresh_authenticator_code(session: Session, user: User) -> str:
    """The code the therapist's authenticator shows now, one the server has not accepted yet.

    A code works once per 30-second step. Tests sign one therapist in several times within a
    step; a person would wait for the next code, this helper winds the record of the last accepted
    step back instead (in `session`, which the caller commits).
    """
    assert user.totp_secret, f"{user.sign_in_name} has no authenticator"
    step = time_step(utcnow())
    if user.totp_last_step is not None and user.totp_last_step >= step:
        user.totp_last_step = step - 1
        session.flush()
    return authenticator_code(user.totp_secret)
