"""A real IMAP server for the tests: Debian's Dovecot on 127.0.0.1, with its own config.

``ImapServer(directory)`` writes a complete, standalone ``dovecot.conf`` into
``directory`` (``/etc/dovecot`` is never read, a system Dovecot never matters), runs
``dovecot -F -c <conf>`` in its own process group and waits until a LOGIN succeeds on
both ports (no fixed sleep); if Dovecot does not come up, ``start()`` raises with its
log. ``stop()`` ends the master and every child it started.

It listens on two free ports of 127.0.0.1: ``port`` speaks plain IMAP, offers
STARTTLS and takes a plaintext LOGIN without it (tests use IMAP_SECURITY=none on
loopback); ``tls_port`` speaks TLS from the first byte. Both present
``tests/data/tls/localhost.pem`` (for 127.0.0.1 and localhost), signed by the test
authority ``CA`` (``tests/data/tls/ca.pem``): a client that verifies certificates
must trust that file, through ``ssl.create_default_context(cafile=CA)`` or
``SSL_CERT_FILE``, as the SMTP tests do.

One user to begin with (``user`` / ``password``), more with ``add_user()``; a
passwd-file passdb, a static userdb and Maildir storage, all under ``directory``.
``env(security)`` is what the product reads (IMAP_HOST, IMAP_PORT, IMAP_USERNAME,
IMAP_PASSWORD, IMAP_SECURITY). ``append()`` puts a message in through IMAP APPEND,
``clear()`` empties every folder and deletes all but INBOX, and ``snapshot()`` reads
(uid, flags) of every message in a read-only session, so a test can assert that a
client set no flag (``\\Seen``) and moved or deleted nothing.

Running as root (this machine, CI) or as a normal user both work. Dovecot never lets
a login process or a mail process run as root, so as root the login processes run
as ``dovenull`` (or ``nobody``) chrooted into ``base_dir/login``, and mail is
accessed as ``nobody`` chrooted into ``directory/mail`` (a pytest temp directory is
not reachable for other users); as a normal user every process runs as that user,
without chroots, which only root may do.
"""

from __future__ import annotations

import datetime as dt
import functools
import grp
import os
import pwd
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterable

from tests.smtp_server import CA, free_port

__all__ = ["ImapServer", "CA", "DOVECOT_HINT", "dovecot_binary", "require_dovecot"]

_TLS = Path(__file__).parent / "data" / "tls"
DOVECOT_HINT = ("the IMAP tests run Debian's Dovecot (/usr/sbin/dovecot): "
                "`apt-get install dovecot-imapd` (its own config and ports on 127.0.0.1; "
                "a system Dovecot it may start does not matter)")
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+@-]+")      # nothing Dovecot's config would expand or split
_SAFE_FIELD = re.compile(r"[^:\s%]+")


def dovecot_binary() -> str | None:
    """/usr/sbin/dovecot, else ``dovecot`` on PATH, else None."""
    if os.access("/usr/sbin/dovecot", os.X_OK):
        return "/usr/sbin/dovecot"
    return shutil.which("dovecot")


def require_dovecot() -> str:
    """The Dovecot binary; skip when missing (or, with RELEAD_REQUIRE_SERVERS=1 as in CI, fail)."""
    import pytest

    binary = dovecot_binary()
    if binary:
        return binary
    if os.environ.get("RELEAD_REQUIRE_SERVERS") == "1":
        pytest.fail("RELEAD_REQUIRE_SERVERS=1 but " + DOVECOT_HINT)
    pytest.skip(DOVECOT_HINT)


def _unprivileged(*names: str) -> pwd.struct_passwd:
    for name in names:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"none of the users {names} exists: Dovecot needs one that is not root")


@functools.cache
def _die_with_parent() -> list[str]:
    """A command prefix that makes the kernel SIGTERM the Dovecot master (which then ends its
    children) should pytest die without calling stop(); util-linux's setpriv, if there."""
    setpriv = shutil.which("setpriv")
    if setpriv and "--pdeathsig" in subprocess.run([setpriv, "--help"], capture_output=True,
                                                   text=True).stdout:
        return [setpriv, "--pdeathsig", "TERM", "--"]
    return []


class ImapServer:
    host = "127.0.0.1"

    def __init__(self, directory: Path, *, user: str = "sales@northwind.example",
                 password: str = "imap-secret"):
        self.directory = Path(directory).resolve()
        if not _SAFE_PATH.fullmatch(str(self.directory)):
            raise ValueError(f"{self.directory}: Dovecot's config needs a path of [A-Za-z0-9_./+@-]")
        self.user = user
        self.password = password
        self.users: dict[str, str] = {}
        self.binary = dovecot_binary()
        self.port = 0
        self.tls_port = 0
        self.conf = self.directory / "dovecot.conf"
        self.log = self.directory / "dovecot.log"
        self._output = self.directory / "dovecot.out"      # what the master prints before logging
        self._passwd = self.directory / "users"
        self._mail = self.directory / "mail"
        self._proc: subprocess.Popen | None = None
        self._own_base_dir: Path | None = None
        self._root = os.geteuid() == 0
        if self._root:
            self._login_user = _unprivileged("dovenull", "nobody")
            self._mail_user = _unprivileged("nobody", "dovenull")
        else:
            self._login_user = self._mail_user = pwd.getpwuid(os.geteuid())
        self.add_user(user, password)

    # -- users -----------------------------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Another mailbox owner; Dovecot rereads the passwd-file, so this works while running."""
        for value in (name, password):
            if not _SAFE_FIELD.fullmatch(value):
                raise ValueError(f"{value!r}: no ':', '%', spaces or line breaks in a user or password")
        if "/" in name or name.startswith("."):
            raise ValueError(f"{name!r}: no '/' or leading '.' in a user name (it names a file and a home)")
        if self.users.get(name, password) != password:
            raise ValueError(f"{name} exists already (Dovecot may keep the old password a second)")
        self.users[name] = password
        # One passwd-file per user: Dovecot looks at a file it knows at most once a second, so
        # a user added to a shared file right after a login would stay unknown for a moment.
        self._passwd.mkdir(parents=True, exist_ok=True)
        (self._passwd / name).write_text(f"{name}:{{PLAIN}}{password}\n", encoding="utf-8")
        home = self._mail / name
        home.mkdir(parents=True, exist_ok=True)
        if self._root:           # the mail processes run as self._mail_user
            for path in (self._mail, home):
                os.chown(path, self._mail_user.pw_uid, self._mail_user.pw_gid)

    # -- the process -----------------------------------------------------------------------

    def _config(self, base_dir: Path) -> str:
        internal = pwd.getpwuid(os.geteuid()).pw_name
        internal_group = grp.getgrgid(os.getegid()).gr_name
        login, mail = self._login_user, self._mail_user
        if self._root:
            # mail processes chroot into directory/mail (the home is then /<user>): after
            # dropping root they could not reach a path under a 0700 pytest temp directory.
            # The login processes keep their default chroot (base_dir/login) for the same reason.
            storage = f"mail_chroot = {self._mail}\nvalid_chroot_dirs = {self._mail}\n"
            home = "/%u"
            chroots = ""
        else:
            # only root may chroot: the services that do it by default must not
            storage = ""
            home = f"{self._mail}/%u"
            chroots = "".join(f"service {name} {{\n  chroot =\n}}\n"
                              for name in ("anvil", "imap-login", "imap-urlauth-login"))
        return f"""\
# Written by tests/imap_server.py: a standalone Dovecot for the test suite, on 127.0.0.1 only.
protocols = imap
listen = 127.0.0.1
base_dir = {base_dir}
state_dir = {self.directory}/state
log_path = {self.log}
info_log_path = {self.log}
debug_log_path = {self.log}
auth_verbose = yes
auth_failure_delay = 0

# Dovecot refuses root for login and mail processes (see the module docstring).
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login.pw_name}
mail_uid = {mail.pw_uid}
mail_gid = {mail.pw_gid}
first_valid_uid = {mail.pw_uid}
first_valid_gid = {mail.pw_gid}
{storage}mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 1000

ssl = yes
ssl_cert = <{self.directory}/localhost.pem
ssl_key = <{self.directory}/localhost.pem
disable_plaintext_auth = no
auth_mechanisms = plain login

# A failed login is answered at once and does not make the next logins from 127.0.0.1
# wait (the auth penalty, 2 s and up): Dovecot 2.3 skips both when the extra fields of
# the request carry "nodelay". Fields of a failing passdb are rolled back, so the first
# passdb sets it without checking anything (noauthenticate), then passwd-file decides.
passdb {{
  driver = static
  args = noauthenticate nodelay=yes
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self._passwd}/%u
}}
userdb {{
  driver = static
  args = home={home}
}}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
{chroots}"""

    def start(self) -> "ImapServer":
        if self._proc is not None:
            return self
        if not self.binary:
            raise RuntimeError(DOVECOT_HINT)
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "state").mkdir(exist_ok=True)
        shutil.copyfile(_TLS / "localhost.pem", self.directory / "localhost.pem")   # key included
        os.chmod(self.directory / "localhost.pem", 0o600)
        base_dir = self.directory / "run"
        if len(str(base_dir)) > 70:                 # unix socket paths are limited to 108 bytes
            self._own_base_dir = base_dir = Path(tempfile.mkdtemp(prefix="dovecot-"))
        base_dir.mkdir(exist_ok=True)
        for attempt in range(3):
            self.port, self.tls_port = free_port(), free_port()
            while self.tls_port == self.port:
                self.tls_port = free_port()
            self.conf.write_text(self._config(base_dir), encoding="utf-8")
            self.log.write_text("", encoding="utf-8")
            with open(self._output, "wb") as out:
                self._proc = subprocess.Popen(
                    [*_die_with_parent(), self.binary, "-F", "-c", str(self.conf)],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True)
            try:
                self._wait_ready()
                return self
            except Exception as exc:
                logs = self._logs()
                self._kill()
                if "Address already in use" in logs and attempt < 2:
                    continue                  # another process took a free port meanwhile
                raise RuntimeError(f"Dovecot did not start: {exc}\n{logs}") from None
        raise AssertionError("unreachable")

    def _logs(self) -> str:
        parts = []
        for path in (self._output, self.log):
            try:
                text = path.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                continue
            if text:
                parts.append(f"--- {path.name}\n{text}")
        return "\n".join(parts) or "(Dovecot wrote no log)"

    def _wait_ready(self, timeout: float = 10.0) -> None:
        from imapclient import IMAPClient
        from imapclient.exceptions import IMAPClientError, LoginError

        deadline = time.monotonic() + timeout
        pending = [(self.port, False), (self.tls_port, True)]
        last: Exception | None = None
        while pending:
            if self._proc.poll() is not None:
                raise RuntimeError(f"dovecot exited with status {self._proc.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no IMAP LOGIN within {timeout:.0f} s (last error: {last!r})")
            port, tls = pending[0]
            try:
                with IMAPClient(self.host, port, ssl=tls, ssl_context=self.ssl_context(),
                                timeout=2) as client:
                    client.login(self.user, self.password)
                pending.pop(0)
            except LoginError:
                raise
            except (OSError, IMAPClientError) as exc:      # not listening yet, login not up yet
                last = exc
                time.sleep(0.01)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:                       # the whole group at once: the master then has nothing to wait for
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:       # children the master left behind
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.01)

    def stop(self) -> None:
        self._kill()
        if self._own_base_dir is not None:
            shutil.rmtree(self._own_base_dir, ignore_errors=True)
            self._own_base_dir = None

    def __enter__(self) -> "ImapServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what tests use --------------------------------------------------------------------

    @staticmethod
    def ssl_context() -> ssl.SSLContext:
        """A client context that trusts the test authority (and nothing else)."""
        return ssl.create_default_context(cafile=str(CA))

    def env(self, security: str = "none") -> dict[str, str]:
        """The product's IMAP_* settings for this server: security "none", "starttls" or "tls"."""
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"security must be none, starttls or tls, not {security!r}")
        return {
            "IMAP_HOST": self.host,
            "IMAP_PORT": str(self.tls_port if security == "tls" else self.port),
            "IMAP_USERNAME": self.user,
            "IMAP_PASSWORD": self.password,
            "IMAP_SECURITY": security,
        }

    def _client(self, user: str | None = None):
        from imapclient import IMAPClient

        user = user or self.user
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        try:
            client.login(user, self.users[user])
        except BaseException:
            client.shutdown()
            raise
        return client

    def append(self, message: bytes, folder: str = "INBOX", *, flags: Iterable[str] = (),
               date: dt.datetime | None = None, user: str | None = None) -> int:
        """APPEND ``message`` (bare LF line ends become CRLF) to ``folder``, created if missing.

        Returns the message's UID. ``date`` sets INTERNALDATE (a naive one is local time).
        """
        data = re.sub(rb"(?<!\r)\n", b"\r\n", bytes(message))
        with self._client(user) as client:
            if folder.upper() != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            reply = client.append(folder, data, flags=tuple(flags), msg_time=date)
        found = re.search(rb"\[APPENDUID \d+ (\d+)\]", reply)
        if not found:
            raise RuntimeError(f"no APPENDUID in the APPEND reply: {reply!r}")
        return int(found.group(1))

    @staticmethod
    def _folders(client) -> list[str]:
        return [name for flags, _delim, name in client.list_folders()
                if b"\\Noselect" not in flags and b"\\NonExistent" not in flags]

    def clear(self) -> None:
        """Delete every message in every folder, then every folder but INBOX, for every user."""
        from imapclient.exceptions import IMAPClientError

        for user in self.users:
            with self._client(user) as client:
                for folder in self._folders(client):
                    client.select_folder(folder)
                    uids = client.search("ALL")
                    if uids:
                        client.delete_messages(uids, silent=True)
                        client.expunge()
                client.unselect_folder()
                names = [name for _f, _d, name in client.list_folders()]
                for name in sorted(names, key=len, reverse=True):      # children first
                    if name.upper() != "INBOX":
                        try:
                            client.delete_folder(name)
                        except IMAPClientError as exc:               # a parent that went with them
                            if b"NONEXISTENT" not in str(exc).encode():
                                raise
                for name in client.list_sub_folders():
                    if name.upper() != "INBOX":
                        client.unsubscribe_folder(name)
                left = [name for _f, _d, name in client.list_folders()]
                if [name.upper() for name in left] != ["INBOX"]:
                    raise RuntimeError(f"clear() left folders behind for {user}: {left}")

    def snapshot(self, user: str | None = None) -> dict[str, list[tuple[int, tuple[str, ...]]]]:
        """Every folder -> [(uid, sorted flags)], read with EXAMINE (read-only) in its own session.

        ``\\Recent`` is left out: it belongs to a session, not to the message.
        """
        result: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        with self._client(user) as client:
            for folder in sorted(self._folders(client)):
                client.select_folder(folder, readonly=True)
                uids = client.search("ALL")
                fetched = client.fetch(uids, ["FLAGS"]) if uids else {}
                result[folder] = sorted(
                    (uid, tuple(sorted(flag.decode() for flag in item[b"FLAGS"]
                                       if flag != b"\\Recent")))
                    for uid, item in fetched.items())
        return result
