"""The second factor for therapists and admins (AU-08): TOTP codes and single-use recovery codes.

A code is accepted for the 30-second step before, during and after now, and only once: the last
step accepted is stored, and the update that stores it is conditional, so two requests racing with
one code cannot both win. Recovery codes (10, 80 random bits each) are shown once at enrolment and
only their SHA-256 hashes are kept. Services flush, the view commits.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from datetime import datetime
from functools import cache
from io import BytesIO
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, update

from portal import db
from portal.db import utcnow
from portal.models import RecoveryCode, User
from portal.security import token_hash

if TYPE_CHECKING:
    import pyotp

STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
ISSUER = "Rapport"


@cache
def _totp_class() -> type[pyotp.TOTP]:
    """pyotp is imported by the first code checked, not by every worker at start (issue 17:
    ~10 ms of `import wsgi`; only therapists' and admins' sign-ins and set-up use it)."""
    import pyotp

    class _TOTP(pyotp.TOTP):
        """pyotp refuses secrets under 112 bits (NIST SP 800-63B-4). Every secret Rapport makes
        has 160; the published demo secret RAPPORTDEMOTOTP2 has 80 and is refused in production
        anyway (AU-07), so the floor here is 80 bits."""

        min_secret_length_bits = 80

    return _TOTP


def totp(secret: str) -> pyotp.TOTP:
    return _totp_class()(secret)


def code_at(secret: str, step: int) -> str:
    """The code an authenticator app shows during 30-second step `step`."""
    return str(totp(secret).at(step * STEP_SECONDS))


def time_step(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def new_secret() -> str:
    import pyotp

    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def provisioning_uri(user: User) -> str:
    assert user.totp_secret is not None
    return totp(user.totp_secret).provisioning_uri(name=user.sign_in_name, issuer_name=ISSUER)


def qr_svg(user: User) -> bytes:
    """The otpauth URI as a QR code, an SVG served from our own origin (no inline markup)."""
    out = BytesIO()
    import segno  # only the set-up page draws a QR code (issue 17: not at import)

    segno.make(provisioning_uri(user), error="m").save(out, kind="svg", scale=5, border=2)
    return out.getvalue()


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an authenticator app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def check_totp(user: User, code: str, *, now: datetime | None = None) -> bool:
    """True when `code` is the user's current code (±1 step) and was never accepted before."""
    code = re.sub(r"\s+", "", code)
    if not user.totp_secret or not re.fullmatch(r"\d{6}", code):
        return False
    current = time_step(now or utcnow())
    for step in (current - 1, current, current + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(code_at(user.totp_secret, step), code):
            claimed = db.session.execute(
                update(User)
                .where(
                    User.id == user.id,
                    or_(User.totp_last_step.is_(None), User.totp_last_step < step),
                )
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            db.session.refresh(user)
            return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]
    return False


def _normal_recovery(code: str) -> str:
    return re.sub(r"[\s-]+", "", code).lower()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with 10 new ones; the plain codes are returned once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=token_hash(_normal_recovery(code)))
        for code in codes
    )
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one unused recovery code of this user; False when it is not one."""
    normal = _normal_recovery(code)
    if not re.fullmatch(r"[a-z2-7]{16}", normal):
        return False
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == token_hash(normal),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


def recovery_codes_left(user: User) -> int:
    from sqlalchemy import func, select

    count = db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


def enrol(user: User, *, now: datetime | None = None) -> list[str]:
    """The first code was right: the factor is on, and here are the recovery codes."""
    user.totp_enrolled_at = now or utcnow()
    return new_recovery_codes(user)


def reset(user: User) -> None:
    """Forget the authenticator and the recovery codes: the next sign-in enrols afresh."""
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()


if __name__ == "__main__":  # python -m portal.auth.second_factor SECRET: the code shown now
    import sys

    print(code_at(sys.argv[1], time_step(utcnow())))
