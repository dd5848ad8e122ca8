"""Channel ``email``: a plain-text mail to the team's addresses through an SMTP server.

Uses the standard library (``smtplib``, ``email.message.EmailMessage``), nothing hand-written.
The mail carries the reference, the team and a link (``base.body_text``), never resident data.

- ``Message-ID: <{delivery_id}@voordeur>`` is the same on every retry of one announcement: when
  a server accepted a mail but the answer got lost, the retried copy can be recognised (and is
  dropped by servers and clients that de-duplicate on Message-ID).
- ``X-Voordeur-Event`` / ``X-Voordeur-Reference`` let a team's mail rules sort and route it;
  ``Auto-Submitted: auto-generated`` (RFC 3834) keeps out-of-office replies away;
  urgent handovers add ``Importance: high`` and ``X-Priority: 1``.
- Errors become ``NotifyError``: temporary ones (connection refused, timeout, a dropped
  connection, 4xx replies) with ``retry=True``; permanent ones (5xx replies, refused login,
  a server without STARTTLS) with ``retry=False``. Messages hold the host, the SMTP stage and
  codes, never the server's reply text (it often echoes the address).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from handover_api.notify.base import Notification, NotifyError, body_text, event_of, subject

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    """The SMTP server mail goes through (``VOORDEUR_SMTP_*``). ``ssl``: TLS from the first
    byte (port 465); ``starttls``: upgrade a plain connection (port 587); neither: plain
    (a relay on the same host or network)."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    from_address: str = "voordeur@localhost"
    timeout: float = 10.0

    def __repr__(self) -> str:  # the password never ends up in a log line or traceback
        return (
            f"SmtpSettings(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"password={'***' if self.password else None}, starttls={self.starttls}, "
            f"ssl={self.ssl}, from_address={self.from_address!r}, timeout={self.timeout})"
        )


def _temporary(code: int) -> bool:
    """SMTP reply classes: 4xx is a temporary failure (try again later), 5xx a permanent one.
    Anything else (e.g. -1 for an unreadable reply) is treated as temporary."""
    return not 500 <= code <= 599


class EmailSender:
    """Sends a ``Notification`` as one mail to all addresses of ``destination``."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def message(self, notification: Notification, destination: tuple[str, ...]) -> EmailMessage:
        """The mail as it is sent (public for tests and previews)."""
        n = notification
        msg = EmailMessage()
        msg["From"] = self.settings.from_address
        msg["To"] = ", ".join(destination)
        msg["Subject"] = subject(n)
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = f"<{n.delivery_id}@voordeur>"
        msg["X-Voordeur-Reference"] = n.reference
        msg["X-Voordeur-Event"] = event_of(n)
        msg["Auto-Submitted"] = "auto-generated"
        if n.urgent:
            msg["Importance"] = "high"
            msg["X-Priority"] = "1"
        # quoted-printable: 7-bit safe, so also servers without 8BITMIME take the ë and ó.
        msg.set_content(body_text(n), charset="utf-8", cte="quoted-printable")
        return msg

    def send(
        self,
        notification: Notification,
        *,
        destination: tuple[str, ...],
        secret: str | None = None,
    ) -> None:
        """Deliver one mail; returns None once the server accepted it for at least one address.

        When the server refuses some but not all addresses the mail still counts as delivered
        (a retry would send it again to those who got it); the refusal is logged with codes.
        """
        s = self.settings
        if not s.host.strip():
            raise NotifyError("SMTP not configured (VOORDEUR_SMTP_HOST)", retry=True)
        recipients = [address.strip() for address in destination if address.strip()]
        if not recipients:
            raise NotifyError("no e-mail address to send to", retry=False)
        try:
            msg = self.message(notification, tuple(recipients))
        except ValueError as exc:  # e.g. a line break in an address or the sender address
            raise NotifyError(f"cannot build the mail: {type(exc).__name__}", retry=False) from None
        where = f"SMTP {s.host}:{s.port}"
        try:
            refused = self._deliver(msg, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            retry = any(_temporary(code) for code in codes)
            raise NotifyError(
                f"{where}: all recipients refused at RCPT ({', '.join(map(str, codes))})",
                retry=retry,
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise NotifyError(f"{where}: login refused ({exc.smtp_code})", retry=False) from None
        except smtplib.SMTPSenderRefused as exc:
            raise NotifyError(
                f"{where}: sender refused at MAIL FROM ({exc.smtp_code})",
                retry=_temporary(exc.smtp_code),
            ) from None
        except smtplib.SMTPDataError as exc:
            raise NotifyError(
                f"{where}: message refused at DATA ({exc.smtp_code})",
                retry=_temporary(exc.smtp_code),
            ) from None
        except smtplib.SMTPResponseException as exc:  # HELO, connect greeting, other replies
            raise NotifyError(
                f"{where}: {type(exc).__name__} ({exc.smtp_code})",
                retry=_temporary(exc.smtp_code),
            ) from None
        except smtplib.SMTPNotSupportedError:
            # STARTTLS, AUTH or SMTPUTF8 asked of a server that does not offer it: the
            # configuration must change before any retry can work.
            raise NotifyError(
                f"{where}: SMTPNotSupportedError (STARTTLS, AUTH or SMTPUTF8 not offered)",
                retry=False,
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            # smtplib turns a read timeout into "disconnected"; name the cause when there is one.
            cause = exc.__cause__ or exc.__context__
            why = f" ({type(cause).__name__})" if isinstance(cause, OSError) else ""
            raise NotifyError(f"{where}: SMTPServerDisconnected{why}", retry=True) from None
        except smtplib.SMTPException as exc:
            raise NotifyError(f"{where}: {type(exc).__name__}", retry=True) from None
        except ssl.SSLCertVerificationError:
            raise NotifyError(f"{where}: TLS certificate not trusted", retry=False) from None
        except OSError as exc:  # refused, unreachable, DNS, timeout, TLS
            raise NotifyError(f"{where}: {type(exc).__name__}", retry=True) from None
        if refused:
            codes = sorted({code for code, _ in refused.values()})
            logger.warning(
                "notification %s: %d of %d recipients refused by %s (%s)",
                notification.delivery_id,
                len(refused),
                len(recipients),
                where,
                ", ".join(map(str, codes)),
            )

    def _deliver(self, msg: EmailMessage, recipients: list[str]) -> dict[str, tuple[int, bytes]]:
        """One SMTP session: connect (TLS), log in when configured, send, quit."""
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.ssl:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.starttls and not s.ssl:
                smtp.starttls(context=context)
            if s.username:
                smtp.login(s.username, s.password or "")
            return smtp.send_message(msg, to_addrs=recipients)
        finally:
            # Once the server took the mail, a failing QUIT must not turn into a retry (and a
            # second copy): close quietly whatever happens.
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
