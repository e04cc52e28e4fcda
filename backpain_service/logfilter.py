"""A logging filter that masks phone numbers in every record, ours and third-party libraries'.

Attached to the console handler in settings.LOGGING (and to Celery's handlers in a worker,
which replaces the root logger's). It is loaded while Django configures logging, before any
app is ready: no Django models here, so triage.models' regex is repeated below.

Our own code never logs a number or a message body (it logs `triage.models.mask(address)`);
this catches what slips through anyway: a database error quoting a row, a library's debug line.
Bodies cannot be recognised, only kept out: SQL logging (which carries them as query
parameters) is off in settings.LOGGING.
"""

from __future__ import annotations

import logging
import re

from celery import signals

# The same runs as triage.models._PHONE_LIKE, ...
_PHONE_LIKE = r"\+?\d[\d ().-]{5,}\d"
# ... except timestamps and IPv4 addresses, which log lines are full of and which are no one's
# number: they are matched first and left as they are.
_KEEP = (
    r"(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"(?:[ T]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?(?!\d)"
    r"|(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])"
)
_RUNS = re.compile(f"(?P<keep>{_KEEP})|{_PHONE_LIKE}")
# Shorter runs are counts, sizes, status codes; the shortest local numbers have seven digits.
MIN_DIGITS = 7


def _mask(match: re.Match[str]) -> str:
    if match.group("keep"):
        return match.group()
    digits = re.sub(r"\D", "", match.group())
    return "…" + digits[-4:] if len(digits) >= MIN_DIGITS else match.group()


def mask_numbers(text: str) -> str:
    """Phone-number-like runs of 7+ digits reduced to their last four: '+1 202-555-0123' ->
    '…0123'. Dates, times and IP addresses are left alone."""
    return _RUNS.sub(_mask, text)


class MaskPhoneNumbers(logging.Filter):
    """Rewrites the record's message (arguments merged in), traceback and stack in place, so
    every handler after this one and the formatter see only masked text. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken call: keep its format string, never its arguments
            message = str(record.msg)
        record.msg, record.args = mask_numbers(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_numbers(record.stack_info)
        return True


def handlers_add_filter(logger: logging.Logger) -> None:
    """Give each of the logger's handlers the filter (once)."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskPhoneNumbers) for f in handler.filters):
            handler.addFilter(MaskPhoneNumbers())


def _on_celery_logging(logger: logging.Logger, **kwargs: object) -> None:
    handlers_add_filter(logger)


# A Celery worker swaps the root logger's handlers for its own after Django configured
# logging (and imported this module); its task logger gets a handler of its own too.
signals.after_setup_logger.connect(_on_celery_logging, weak=False)
signals.after_setup_task_logger.connect(_on_celery_logging, weak=False)
