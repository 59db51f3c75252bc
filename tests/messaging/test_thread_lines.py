"""The thread page writes each message from its `Line`, unpacked by position in the template
(issue 17): the template's names and the line's fields stay alike. (What such a line says of a
message about something no longer shown is tested with the other "about" messages, in
test_messaging.py.)"""

from __future__ import annotations

from flask import Flask

from portal.messages.views import Line
from tests.support.templates import unpacked_names


def test_the_thread_template_unpacks_each_line_into_its_fields_in_their_order(app: Flask) -> None:
    # A field the template does not write is unpacked as "_field".
    names = unpacked_names(app, "messages/thread.html", "messages")
    assert [name.removeprefix("_") for name in names] == list(Line._fields)
