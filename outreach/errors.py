"""Every error outreach raises: one root, each also the built-in it resembles.

The CLI turns an :class:`OutreachError` into one line and its ``exit_code``;
delivery errors never leave the sender (they become recorded outcomes).
"""

from __future__ import annotations

__all__ = [
    "OutreachError", "ConfigError", "QueueError", "ReviewRequired", "RenderError", "UnsafeHeader",
    "GitError", "RunPaused", "DeliveryError", "TemporaryDeliveryError", "PermanentDeliveryError",
    "RecipientRejected", "DeliveryUnknown", "AccountRefused",
]


class OutreachError(Exception):
    """The root of every error outreach raises on purpose."""

    exit_code = 1


class ConfigError(OutreachError, ValueError):
    """The environment (or .env) names a transport that cannot be set up."""

    exit_code = 2


class QueueError(OutreachError, ValueError):
    """outbox/<date>/queue.yaml is missing, malformed or for another day."""


class ReviewRequired(OutreachError, PermissionError):
    """REQUIRE_REVIEW=1 and the queue is not committed as it is."""

    exit_code = 4


class RenderError(OutreachError, ValueError):
    """A message could not be rendered for a lead (undefined variable, sandbox, syntax)."""

    code = "render"


class UnsafeHeader(RenderError):
    """A header value holds a line break (or another control character): refused."""

    code = "unsafe_header"


class GitError(OutreachError, RuntimeError):
    """A git command failed (commit, push, rebase)."""

    exit_code = 5


class RunPaused(OutreachError):
    """The run stopped sending: more than the allowed share of its sends failed."""

    exit_code = 3


class DeliveryError(OutreachError, ConnectionError):
    """A provider did not take a message. ``code`` is the provider's code ("421", "21610")."""

    def __init__(self, message: str, *, code: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class TemporaryDeliveryError(DeliveryError):
    """Nothing was delivered and trying again (on a fresh connection, after a wait) may work.

    ``final``: not within this run (something a person has to change first): deferred at once.
    """

    def __init__(self, message: str, *, code: str = "", retry_after: float | None = None, final: bool = False):
        super().__init__(message, code=code, retry_after=retry_after)
        self.final = final


class PermanentDeliveryError(DeliveryError):
    """Nothing was delivered and trying again will not help.

    ``mark`` names what it says about the lead: ``bounced`` (email address),
    ``opted_out`` (SMS STOP), ``wrong_number``, or "" for nothing.
    """

    def __init__(self, message: str, *, code: str = "", mark: str = ""):
        super().__init__(message, code=code)
        self.mark = mark


class RecipientRejected(PermanentDeliveryError):
    """A 5xx on RCPT: the address bounced."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message, code=code, mark="bounced")


class DeliveryUnknown(DeliveryError, TimeoutError):
    """The message may or may not have been delivered (a timeout or a drop after the data went out)."""


class AccountRefused(DeliveryError, PermissionError):
    """The provider refused *us*, not a recipient: a wrong password or token, a suspended account,
    our sender address. No message of that channel can go out in this run, so the run stops
    sending on it at once (one login attempt, not one per message) and defers the rest.
    ``exit_code`` is the run's when this happened."""

    exit_code = 8
