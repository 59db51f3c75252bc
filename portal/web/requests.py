"""The request class: NUL characters are dropped from submitted form values, and WTForms' messages
come from a catalogue loaded once per process.

A NUL is never meaningful in a form, PostgreSQL refuses it in text ("cannot contain NUL"), and
SQLite's length() stops counting at it, so a CHECK on length fails: either way a 500 (found by
the IN-02 fuzz test). Dropping it here keeps every form's own validation in charge of the rest.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict

from portal.i18n import wtforms_translations


class PortalRequest(Request):
    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form is None:
            return
        values = list(form.items(multi=True))
        if any("\x00" in value for _, value in values):
            self.__dict__["form"] = ImmutableMultiDict(
                [(key, value.replace("\x00", "")) for key, value in values]
            )

    @cached_property
    def wtforms_translations(self) -> Any:
        """Where Flask-WTF looks for this request's WTForms catalogue before loading it from disk
        (flask_wtf.i18n._get_translations): the per-process copy for the request's language, taken
        the first time a form asks, as Flask-WTF would (issue 17)."""
        return wtforms_translations()
