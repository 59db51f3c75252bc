"""Password and PIN hashing (argon2id at OWASP parameters, AU-02) and the password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.i18n import gettext as _

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the account does not exist, so timing does not reveal who has one (AU-04).
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing-only")

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
PIN_LENGTHS = range(4, 7)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str | None, candidate: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, candidate) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str, *, sign_in_name: str = "") -> str | None:
    """Why this password is not acceptable, in words a parent understands; None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _(
            "Use at least %(min_password_length)s characters. A short phrase works well.",
            min_password_length=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return _(
            "Use at most %(max_password_length)s characters.",
            max_password_length=MAX_PASSWORD_LENGTH,
        )
    if sign_in_name and password.strip().lower() == sign_in_name.strip().lower():
        return _("Your password cannot be the same as your email or username.")
    return None


def pin_problem(pin: str) -> str | None:
    if not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        return _("A PIN is 4 to 6 numbers.")
    if len(set(pin)) == 1:
        return _("Choose a PIN that is not the same number again and again.")
    return None
