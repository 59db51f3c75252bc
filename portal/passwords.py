"""Password and PIN hashing (argon2id at OWASP parameters, AU-02) and the password rules (AU-01).

The rules follow NIST SP 800-63B: a minimum length (8; 15 for therapists and admins, who can open
every record of their caseload), up to 128 characters, no composition rules, and no password that
is on the list of the 3000 most common ones or on our own list of obvious local guesses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from flask_babel import gettext

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@cache
def _hasher() -> PasswordHasher:
    """OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1. argon2 (and cffi under
    it) is imported by the first sign-in, not by every worker at start (issue 17)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


# Verified against when the account does not exist, so timing does not reveal who has one (AU-04).
# Written out, not hashed when the module is imported: that cost every process 30 ms and 19 MiB
# (issue 17). Its parameters are the hasher's (a test checks), so verifying against it costs what
# verifying a real hash costs.
_DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$lZPx0kwJbFvvh6nBZpGkRw"
    "$BabjQtNwhSB583ZLldRDla9j4ujOy3pu+qZSNecwGic"
)

MIN_PASSWORD_LENGTH = 8
MIN_STAFF_PASSWORD_LENGTH = 15
MAX_PASSWORD_LENGTH = 128
PIN_LENGTHS = range(4, 7)


def hash_secret(secret: str) -> str:
    try:
        return _hasher().hash(secret)
    finally:
        _give_memory_back()


def verify_secret(stored_hash: str | None, candidate: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(stored_hash or _DUMMY_HASH, candidate) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    finally:
        _give_memory_back()


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    import ctypes

    trim: Callable[[int], int] | None = getattr(ctypes.CDLL(None), "malloc_trim", None)
    return trim


def _give_memory_back() -> None:
    """Return argon2's 19 MiB work area to the system. glibc maps the first such block and unmaps
    it when freed, but then raises its mmap threshold to the block's size, so every later block
    comes from the heap and stays there once freed: a worker that had signed anyone in held
    19 MB more for the rest of its life (issue 17). A hash is ~50 ms of work; this is a fraction of
    a millisecond."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


# Guesses an attacker tries first against this portal: its own name, the demo clinic's name and
# its published demo password. Compared without case, spaces or punctuation.
LOCAL_BREACHED = (
    "rapport",
    "rapport1",
    "rapport123",
    "rapport2026",
    "rapportportal",
    "rapportpassword",
    "myrapport",
    "rapportdemo2026",
    "rapportdemo",
    "willowstreet",
    "willowstreetclinic",
    "willowstreetchildfamilyclinic",
    "childtherapy",
    "therapist123",
    "mentalhealth",
)


@cache
def common_passwords() -> frozenset[str]:
    """The 3000 most common passwords (zxcvbn's list, see the data file for its licence)."""
    text = resources.files("portal").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("#")
    )


def _(text: str, **variables: object) -> str:
    return str(gettext(text, **variables))


def _squashed(password: str) -> str:
    return re.sub(r"[\W_]+", "", password.lower())


def password_problem(password: str, *, sign_in_name: str = "", staff: bool = False) -> str | None:
    """Why this password is not acceptable, in words a parent understands; None when it is fine.

    `staff` (therapists and admins) asks for at least 15 characters. Nothing else about the
    characters is required: length and not being a known guess are what make a password strong.
    """
    minimum = MIN_STAFF_PASSWORD_LENGTH if staff else MIN_PASSWORD_LENGTH
    if len(password) < minimum:
        return _("Use at least %(count)d characters. A short phrase works well.", count=minimum)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most %(count)d characters.", count=MAX_PASSWORD_LENGTH)
    if sign_in_name and password.strip().lower() == sign_in_name.strip().lower():
        return _("Your password cannot be the same as your email or username.")
    if password.strip().lower() in common_passwords() or _squashed(password) in LOCAL_BREACHED:
        return _(
            "That password is one of the first that people try when guessing. "
            "Choose something less common, such as a few unrelated words."
        )
    return None


def pin_problem(pin: str) -> str | None:
    if not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        return _("A PIN is 4 to 6 numbers.")
    if len(set(pin)) == 1:
        return _("Choose a PIN that is not the same number again and again.")
    return None
