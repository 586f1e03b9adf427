"""Keep ID numbers and mobile numbers out of every log line.

Installed once at app start as a log-record factory, so it reaches records from every logger
(uvicorn's access log with its query strings, SQLAlchemy errors with their parameters, our own)
whatever handlers are configured. ``RedactingFilter`` does the same for handlers configured
elsewhere, e.g. through a logging dictConfig.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# 18-character resident ID numbers (last may be X/x) and mainland mobile numbers, not inside longer
# runs of digits or letters, so timestamps and hashes stay intact.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
ID_PLACEHOLDER = "[身份证号已隐藏]"
PHONE_PLACEHOLDER = "[手机号已隐藏]"


def redact(text: str) -> str:
    return _MOBILE.sub(PHONE_PLACEHOLDER, _ID_NUMBER.sub(ID_PLACEHOLDER, text))


def _redact_arg(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: message, string arguments, and the formatted traceback."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _redact_arg(v) for k, v in record.args.items()}
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = None
    if message is not None and redact(message) != message:
        # A number hidden in a non-string argument (an int, an exception, a dict): give up the
        # arguments and keep the redacted text.
        record.msg, record.args = redact(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_installed = False


def install() -> None:
    """Wrap the log-record factory once per process; calling it again does nothing."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
