"""ID numbers and mobile numbers never reach a log line."""

from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter

from service import logging as redaction
from service.cohorts import rules

FIRST17 = "15010219980301123"
ID_NUMBER = FIRST17 + rules.id_check_character(FIRST17)
ID_WITH_X = "11010519491231002X"
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _installed() -> None:
    redaction.install()


def _record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    try:
        if exc:
            raise ValueError(f"duplicate key id_number={ID_NUMBER} phone={PHONE}")
    except ValueError:
        import sys

        return logging.getLogger("xibu.test").makeRecord(
            "xibu.test", logging.ERROR, __file__, 1, msg, args, sys.exc_info()
        )
    return logging.getLogger("xibu.test").makeRecord("xibu.test", logging.INFO, __file__, 1, msg, args, None)


def test_redact_text() -> None:
    text = f"证件{ID_NUMBER}、{ID_WITH_X.lower()}，电话{PHONE}"
    out = redaction.redact(text)
    assert ID_NUMBER not in out and PHONE not in out and ID_WITH_X.lower() not in out
    assert out.count(redaction.ID_PLACEHOLDER) == 2 and redaction.PHONE_PLACEHOLDER in out


def test_longer_digit_runs_are_left_alone() -> None:
    text = "sha 1234567890123456789012 ts 20200725120000 id 42 order 139123456789"
    assert redaction.redact(text) == text


def test_message_and_string_args_redacted() -> None:
    record = _record("imported %s with phone %s", ID_NUMBER, PHONE)
    message = record.getMessage()
    assert ID_NUMBER not in message and PHONE not in message
    assert record.args == (redaction.ID_PLACEHOLDER, redaction.PHONE_PLACEHOLDER)


def test_number_in_an_int_argument_redacted() -> None:
    record = _record("phone %d", int(PHONE))
    assert PHONE not in record.getMessage()


def test_traceback_redacted() -> None:
    formatted = logging.Formatter().format(_record("failed", exc=True))
    assert "ValueError" in formatted
    assert ID_NUMBER not in formatted and PHONE not in formatted


def test_uvicorn_access_log_query_string(caplog: pytest.LogCaptureFixture) -> None:
    """uvicorn's access formatter unpacks the five arguments, so they must stay a 5-tuple."""
    path = f"/api/v1/volunteers?id_number={ID_NUMBER}&phone={PHONE}"
    logger = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
    (record,) = caplog.records
    line = AccessFormatter(
        fmt='%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False
    ).format(record)
    assert ID_NUMBER not in line and PHONE not in line
    assert "GET /api/v1/volunteers?id_number=" in line and "200" in line


def test_filter_for_configured_handlers() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "id %s", (ID_WITH_X,), None)
    assert redaction.RedactingFilter().filter(record) is True
    assert ID_WITH_X not in record.getMessage()


def test_install_is_idempotent() -> None:
    factory = logging.getLogRecordFactory()
    redaction.install()
    assert logging.getLogRecordFactory() is factory


def test_app_start_installs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.main import create_app

    previous = logging.getLogRecordFactory()
    monkeypatch.setattr(redaction, "_installed", False)
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        assert PHONE in _record("phone %s", PHONE).getMessage()
        create_app()
        assert PHONE not in _record("phone %s", PHONE).getMessage()
    finally:
        logging.setLogRecordFactory(previous)
