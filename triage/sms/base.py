"""The interface every SMS backend implements, and the error that tells callers whether to retry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Twilio error codes, https://www.twilio.com/docs/api/errors
TWILIO_UNSUBSCRIBED = 21610  # the recipient texted STOP; Twilio refuses until they send START
TWILIO_INVALID_TO = 21211  # not a valid phone number
TWILIO_NOT_MOBILE = 21614  # valid, but not a number that can receive SMS (e.g. a landline)
# Delivery errors in status callbacks that mean the number will never take a text.
TWILIO_UNKNOWN_DESTINATION = 30005
TWILIO_LANDLINE_OR_UNREACHABLE_CARRIER = 30006
INVALID_NUMBER_CODES = frozenset(
    {
        TWILIO_INVALID_TO,
        TWILIO_NOT_MOBILE,
        TWILIO_UNKNOWN_DESTINATION,
        TWILIO_LANDLINE_OR_UNREACHABLE_CARRIER,
    }
)


class SmsError(Exception):
    """Sending failed. `permanent` means retrying the same message can never succeed."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        code: int | None = None,
        status: int | None = None,
        in_doubt: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code  # the provider's error code, e.g. Twilio's 21610
        self.status = status  # the provider's HTTP status, when there was a response
        # No answer came (a timeout, a dropped connection): the provider may have taken it.
        self.in_doubt = in_doubt

    @property
    def opted_out(self) -> bool:
        return self.code == TWILIO_UNSUBSCRIBED

    @property
    def invalid_number(self) -> bool:
        return self.code in INVALID_NUMBER_CODES

    def __repr__(self) -> str:
        return (
            f"SmsError({self.message!r}, permanent={self.permanent}, "
            f"code={self.code}, status={self.status}, in_doubt={self.in_doubt})"
        )


@dataclass(frozen=True)
class TakenSms:
    """A text the provider took for sending (through its API, not a TwiML reply)."""

    sid: str
    body: str
    created_at: dt.datetime


class BaseSmsBackend:
    def prepare(self) -> None:
        """Do now the one-off work of a process's first send (building clients), so that a
        paced first text leaves on its slot. Never sends and never raises."""

    def send(self, to: str, body: str) -> str:
        """Send `body` to the E.164 number `to`; return the provider's message id.

        Raises SmsError when the message was not accepted.
        """
        raise NotImplementedError

    def taken_for(self, to: str, since: dt.datetime) -> list[TakenSms]:
        """The texts to `to` that the provider took from this account's API at or after
        `since` (to the second), newest first, as far back as a page of its list goes.

        Asked only when a worker died with a text in flight, to tell whether it went out.
        Raises SmsError when the provider cannot be asked or cannot say.
        """
        raise SmsError(f"{type(self).__name__} cannot list the texts it sent")
