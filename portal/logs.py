"""Log lines (IN-04): one event is one line. Carriage returns and newlines anywhere in a record,
a traceback included, are written as the two characters \\r and \\n, so text a person typed can
never start a forged log line."""

from __future__ import annotations

import logging
import sys

HANDLER_NAME = "rapport"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def init_logging(level: int = logging.INFO) -> logging.Handler:
    """Install the portal's handler on the root logger once (several apps may share a process)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if handler.get_name() == HANDLER_NAME:
            return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(OneLineFormatter(FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return handler
