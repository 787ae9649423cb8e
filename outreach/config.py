"""Which transports a run uses, from the environment and an untracked ``.env``.

No credentials: both channels write files under ``outbox/``, so ``make outreach``
works on a new clone. ``SMTP_HOST`` switches email to SMTP, ``TWILIO_ACCOUNT_SID``
switches SMS to Twilio (``EMAIL_TRANSPORT`` / ``SMS_TRANSPORT`` force either).
docs/outreach.md lists every variable. Secrets (passwords, tokens) are kept out
of ``repr`` and of :meth:`Config.describe`, so they never reach output or files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .errors import ConfigError

__all__ = ["SmtpConfig", "TwilioConfig", "ImapConfig", "Config", "read_env_file", "config_from_env", "ENV_VARS",
           "SECRET_VARS"]

ENV_VARS = (
    "EMAIL_TRANSPORT", "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_SECURITY",
    "SMTP_CONNECTIONS", "SMTP_TIMEOUT", "SMTP_EHLO", "EMAIL_PER_SECOND",
    "SMS_TRANSPORT", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM",
    "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_API_BASE", "TWILIO_CONNECTIONS", "TWILIO_TIMEOUT",
    "SMS_PER_SECOND", "OUTREACH_ATTEMPTS", "OUTREACH_BACKOFF", "OUTREACH_BATCH", "OUTREACH_CLAIM",
    "OUTREACH_LOCK_WAIT", "ALLOW_PLAINTEXT_AUTH", "IMAP_HOST", "IMAP_PORT", "IMAP_USERNAME", "IMAP_PASSWORD",
    "IMAP_SECURITY", "IMAP_FOLDERS", "IMAP_TIMEOUT", "IMAP_ACCOUNTS",
)
SECRET_VARS = ("SMTP_PASSWORD", "TWILIO_AUTH_TOKEN", "IMAP_PASSWORD")
_SECURITY_PORTS = {"starttls": 587, "tls": 465, "none": 25}
_IMAP_PORTS = {"tls": 993, "starttls": 143, "none": 143}
_REAL_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")       # the shape of a real account's SID
# RFC 5321 4.1.1.1: EHLO gives a domain name, or an address literal such as [192.0.2.1].
_EHLO_NAME = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]"
                        r"(?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$|^\[IPv6:[0-9A-Fa-f:.]+\]$")


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: str = "starttls"          # starttls | tls | none
    username: str = ""
    password: str = field(default="", repr=False)
    connections: int = 4
    timeout: float = 60.0
    ehlo: str = ""                      # the name we give in EHLO; "" = the sender address's domain

    def describe(self) -> str:
        auth = ", with login" if self.username else ""
        return (f"SMTP {self.host}:{self.port} ({self.security}, {self.connections} "
                f"connection{'s' * (self.connections != 1)}{auth})")


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    account_sid: str = field(repr=False)
    auth_token: str = field(repr=False)
    from_number: str = ""
    messaging_service_sid: str = field(default="", repr=False)
    api_base: str = ""                  # "" = Twilio's own
    connections: int = 4
    timeout: float = 30.0

    def describe(self) -> str:
        sender = f"from {self.from_number}" if self.from_number else "through a messaging service"
        where = f" via {self.api_base}" if self.api_base else ""
        return f"Twilio {sender}{where}"


@dataclass(frozen=True, slots=True)
class ImapConfig:
    """The mailbox replies and bounces arrive in (the Reply-To and unsubscribe addresses), read only."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    security: str = "tls"               # tls | starttls | none
    folders: tuple[str, ...] = ("INBOX",)
    timeout: float = 60.0

    def describe(self) -> str:
        return f"IMAP {self.username} at {self.host}:{self.port} ({self.security}, {', '.join(self.folders)})"


@dataclass(frozen=True, slots=True)
class Config:
    """Everything a run needs from outside the repository; ``None`` transports mean files."""

    smtp: SmtpConfig | None = None
    twilio: TwilioConfig | None = None
    imap: tuple[ImapConfig, ...] = ()           # the mailboxes sync reads (none: no mail)
    email_per_second: float | None = None   # None: settings.sending.email_per_second
    sms_per_second: float | None = None     # None: settings.sending.sms_per_second
    attempts: int = 4                       # tries per message for temporary failures
    backoff: float = 1.0                    # seconds before the first retry; doubles each time
    batch: int = 64                         # most touches durable `attempting` but not yet sent
    claim_size: int = 100                   # with PUSH=1: touches claimed on the remote per push
    lock_wait: float = 10.0                 # seconds to wait for another run in this checkout

    def describe(self) -> dict[str, str]:
        return {"email": self.smtp.describe() if self.smtp else "files in outbox/",
                "sms": self.twilio.describe() if self.twilio else "files in outbox/"}


_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a ``.env`` file (``#`` comments, optional quotes, ``export``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc.__class__.__name__}") from None
    values: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            raise ConfigError(f"{path}:{n}: expected KEY=value")
        key, value = m.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def config_from_env(environ: Mapping[str, str] | None = None, *, root: Path | str = ".") -> Config:
    """The run's configuration: ``environ`` (default ``os.environ``) over ``root/.env``."""
    env = dict(read_env_file(Path(root) / ".env"))
    env.update(os.environ if environ is None else environ)
    get = lambda k, d="": (env.get(k) or d).strip()
    plaintext_ok = get("ALLOW_PLAINTEXT_AUTH") in ("1", "yes", "true")

    email = get("EMAIL_TRANSPORT", "smtp" if get("SMTP_HOST") else "file").lower()
    smtp = None
    if email == "smtp":
        host = get("SMTP_HOST")
        if not host:
            raise ConfigError("EMAIL_TRANSPORT=smtp needs SMTP_HOST")
        security = get("SMTP_SECURITY", "starttls").lower()
        if security not in _SECURITY_PORTS:
            raise ConfigError(f"SMTP_SECURITY must be starttls, tls or none, not {security!r}")
        ehlo = get("SMTP_EHLO")
        if ehlo and (len(ehlo) > 255 or not _EHLO_NAME.match(ehlo)):
            raise ConfigError(f"SMTP_EHLO must be a host name such as mail.example.com, not {ehlo!r}")
        smtp = SmtpConfig(host=host, port=_int(get, "SMTP_PORT", _SECURITY_PORTS[security], 1),
                          security=security, username=get("SMTP_USERNAME"),
                          password=env.get("SMTP_PASSWORD", ""),
                          connections=_int(get, "SMTP_CONNECTIONS", 4, 1),
                          timeout=_float(get, "SMTP_TIMEOUT", 60.0, 0.001), ehlo=ehlo)
        if bool(smtp.username) != bool(smtp.password):
            raise ConfigError("set both SMTP_USERNAME and SMTP_PASSWORD, or neither")
        if smtp.username and security == "none" and not plaintext_ok:
            raise ConfigError("SMTP_SECURITY=none would send SMTP_PASSWORD in clear text: use starttls or tls "
                              "(ALLOW_PLAINTEXT_AUTH=1 allows it, for a relay on this machine)")
    elif email != "file":
        raise ConfigError(f"EMAIL_TRANSPORT must be file or smtp, not {email!r}")

    sms = get("SMS_TRANSPORT", "twilio" if get("TWILIO_ACCOUNT_SID") else "file").lower()
    twilio = None
    if sms == "twilio":
        sid, token = get("TWILIO_ACCOUNT_SID"), env.get("TWILIO_AUTH_TOKEN", "").strip()
        if not sid or not token:
            raise ConfigError("SMS through Twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        sender, service = get("TWILIO_FROM"), get("TWILIO_MESSAGING_SERVICE_SID")
        if not sender and not service:
            raise ConfigError("set TWILIO_FROM (a phone number) or TWILIO_MESSAGING_SERVICE_SID")
        base = get("TWILIO_API_BASE").rstrip("/")
        if base and not re.match(r"^https?://[^\s/]+", base):
            raise ConfigError("TWILIO_API_BASE must be an http(s) URL such as https://api.twilio.com")
        if base.lower().startswith("http://") and _REAL_SID.match(sid) and not plaintext_ok:
            raise ConfigError("TWILIO_API_BASE is http://: the auth token would go out in clear text; use "
                              "https (ALLOW_PLAINTEXT_AUTH=1 allows it, for an endpoint on this machine)")
        twilio = TwilioConfig(account_sid=sid, auth_token=token, from_number=sender,
                              messaging_service_sid=service, api_base=base,
                              connections=_int(get, "TWILIO_CONNECTIONS", 4, 1),
                              timeout=_float(get, "TWILIO_TIMEOUT", 30.0, 0.001))
    elif sms != "file":
        raise ConfigError(f"SMS_TRANSPORT must be file or twilio, not {sms!r}")

    imap = _imap_accounts(env, get, plaintext_ok)

    return Config(
        smtp=smtp, twilio=twilio, imap=imap,
        email_per_second=_float(get, "EMAIL_PER_SECOND", None, 0),
        sms_per_second=_float(get, "SMS_PER_SECOND", None, 0),
        attempts=_int(get, "OUTREACH_ATTEMPTS", 4, 1),
        backoff=_float(get, "OUTREACH_BACKOFF", 1.0, 0),
        batch=_int(get, "OUTREACH_BATCH", 64, 1),
        claim_size=_int(get, "OUTREACH_CLAIM", 100, 1),
        lock_wait=_float(get, "OUTREACH_LOCK_WAIT", 10.0, 0),
    )


def _imap_accounts(env: Mapping[str, str], get, plaintext_ok: bool) -> tuple[ImapConfig, ...]:
    """The mailboxes to read: ``IMAP_USERNAME`` / ``IMAP_PASSWORD``, and for each name in
    ``IMAP_ACCOUNTS`` (the owners', when email goes out as them) ``IMAP_USERNAME_<NAME>`` /
    ``IMAP_PASSWORD_<NAME>``; one server (``IMAP_HOST``, port, security, folders) for all."""
    if not get("IMAP_HOST"):
        return ()
    security = get("IMAP_SECURITY", "tls").lower()
    if security not in _IMAP_PORTS:
        raise ConfigError(f"IMAP_SECURITY must be tls, starttls or none, not {security!r}")
    if security == "none" and not plaintext_ok:
        raise ConfigError("IMAP_SECURITY=none would send IMAP_PASSWORD in clear text: use tls or starttls "
                          "(ALLOW_PLAINTEXT_AUTH=1 allows it, for a server on this machine)")
    logins = [("", "IMAP_USERNAME", "IMAP_PASSWORD")] if get("IMAP_USERNAME") else []
    for name in (n.strip() for n in get("IMAP_ACCOUNTS").split(",") if n.strip()):
        key = re.sub(r"[^A-Z0-9]", "_", name.upper())
        logins.append((name, f"IMAP_USERNAME_{key}", f"IMAP_PASSWORD_{key}"))
    if not logins:
        raise ConfigError("reading replies needs IMAP_USERNAME and IMAP_PASSWORD (or IMAP_ACCOUNTS) with IMAP_HOST")
    folders = tuple(f.strip() for f in get("IMAP_FOLDERS", "INBOX").split(",") if f.strip()) or ("INBOX",)
    accounts = []
    for name, user_key, password_key in logins:
        if not get(user_key) or not env.get(password_key):
            raise ConfigError(f"the IMAP account {name or 'IMAP_USERNAME'} needs {user_key} and {password_key}")
        accounts.append(ImapConfig(host=get("IMAP_HOST"), port=_int(get, "IMAP_PORT", _IMAP_PORTS[security], 1),
                                   username=get(user_key), password=env.get(password_key, ""), security=security,
                                   folders=folders, timeout=_float(get, "IMAP_TIMEOUT", 60.0, 0.001)))
    return tuple(accounts)


def _number(get, key: str, default, minimum, kind=float, what="a number"):
    """An optional numeric setting from the environment; a clear error when it is not one."""
    text = get(key)
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{key} must be {what}, not {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{key} must be at least {minimum}")
    return value


def _int(get, key: str, default: int, minimum: int) -> int:
    return _number(get, key, default, minimum, int, "a whole number")


_float = _number
