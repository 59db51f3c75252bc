"""Form validators shared by several forms."""

from __future__ import annotations

from typing import Any

from wtforms.validators import ValidationError

from portal.i18n import lazy_gettext as _l

INVALID_EMAIL = _l("Enter a valid email address, like name@example.com.")


class EmailAddress:
    """A syntactically valid address. `.test` domains are allowed: the demo clinic uses them."""

    def __init__(self, message: str = INVALID_EMAIL) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        # Imported when a form is checked, not when the app starts (issue 17: it and what it
        # imports were a fifth of a second of `import wsgi` on a loaded machine).
        from email_validator import EmailNotValidError, validate_email

        try:
            validate_email(field.data or "", check_deliverability=False, test_environment=True)
        except EmailNotValidError as exc:
            raise ValidationError(self.message) from exc
