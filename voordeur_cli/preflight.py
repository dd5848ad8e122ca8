"""Start-up checks of the production profile: PostgreSQL, Redis and RabbitMQ answer.

Without them the Rasa server dies with a long traceback (or, worse, retries for minutes).
Each check opens a TCP connection and speaks a few bytes of the service's own protocol — a
PostgreSQL start-up message, a Redis PING, the AMQP protocol header — so that a port held by
something else, or a server that is still starting, is told apart from a working service.
Standard library only: the CLI runs before any virtual environment exists.

Every problem is one line that names the service, its address and the reason, e.g.
"PostgreSQL unreachable at 127.0.0.1:5432 (connection refused)".
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

TIMEOUT_SECONDS = 3.0
PG_PROTOCOL_3 = 196608
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"


class ServicesUnavailableError(RuntimeError):
    """A service the production profile needs does not answer."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(unavailable_message(problems))
        self.problems = problems


def unavailable_message(problems: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"Not starting the production profile; these services do not answer:\n{lines}"


def _reason(exc: OSError, timeout: float) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    return exc.strerror or type(exc).__name__


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("closed by the server")
        data += chunk
    return data


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((host, port), timeout=timeout)


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_error_text(payload: bytes) -> str:
    """'FATAL 3D000: database "x" does not exist' from an ErrorResponse's fields."""
    fields: dict[str, str] = {}
    for part in payload.split(b"\x00"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    severity = fields.get("V") or fields.get("S") or "ERROR"
    code = fields.get("C", "")
    return f"{severity} {code}: {fields.get('M', 'unknown error')}".replace(" :", ":")


def check_postgres(
    host: str,
    port: int,
    *,
    user: str = "postgres",
    database: str = "postgres",
    password: str = "",
    timeout: float = TIMEOUT_SECONDS,
) -> str | None:
    """None when PostgreSQL at host:port accepts `user` on `database`; else the problem.

    A server that asks for a password counts as fine when one is configured (checking it
    would need SCRAM here); without one it is a problem, as the connection would fail.
    """
    where = f"{host}:{port}"
    try:
        sock = _connect(host, port, timeout)
    except OSError as exc:
        return f"PostgreSQL unreachable at {where} ({_reason(exc, timeout)})"
    try:
        with sock:
            return _pg_startup(sock, where, user, database, password)
    except TimeoutError as exc:
        return f"PostgreSQL at {where} did not answer ({_reason(exc, timeout)})"
    except (OSError, struct.error):
        return f"PostgreSQL at {where} closed the connection during start-up"


def _pg_startup(
    sock: socket.socket, where: str, user: str, database: str, password: str
) -> str | None:
    params = b"".join(
        key + b"\x00" + value.encode() + b"\x00"
        for key, value in (
            (b"user", user),
            (b"database", database),
            (b"application_name", "voordeur-preflight"),
        )
    )
    body = struct.pack("!I", PG_PROTOCOL_3) + params + b"\x00"
    sock.sendall(struct.pack("!I", len(body) + 4) + body)
    while True:
        kind = _recv_exactly(sock, 1)
        (length,) = struct.unpack("!I", _recv_exactly(sock, 4))
        if length < 4 or length > 1 << 20:
            return f"PostgreSQL at {where} does not speak the PostgreSQL protocol"
        payload = _recv_exactly(sock, length - 4)
        if kind == b"E":
            return f"PostgreSQL at {where} refused the connection: {_pg_error_text(payload)}"
        if kind == b"R":
            (method,) = struct.unpack("!I", payload[:4])
            if method != 0:  # a password is asked for
                if password:
                    return None
                return (
                    f"PostgreSQL at {where} asks user {user!r} for a password "
                    f"(authentication method {method}), but none is configured"
                )
        elif kind == b"Z":  # ready for a query: the database works
            sock.sendall(b"X" + struct.pack("!I", 4))
            return None
        elif kind not in (b"S", b"K", b"N", b"v"):
            return f"PostgreSQL at {where} does not speak the PostgreSQL protocol"


# --- Redis --------------------------------------------------------------------------------


def check_redis(host: str, port: int, *, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None when Redis at host:port answers PING with PONG; else the problem."""
    where = f"{host}:{port}"
    try:
        with _connect(host, port, timeout) as sock:
            sock.sendall(b"PING\r\n")
            answer = b""
            while not answer.endswith(b"\r\n") and len(answer) < 512:
                chunk = sock.recv(512)
                if not chunk:
                    break
                answer += chunk
    except ConnectionRefusedError as exc:
        return f"Redis unreachable at {where} ({_reason(exc, timeout)})"
    except TimeoutError as exc:
        return f"Redis at {where} did not answer PING ({_reason(exc, timeout)})"
    except OSError as exc:
        return f"Redis unreachable at {where} ({_reason(exc, timeout)})"
    text = answer.strip().decode("utf-8", "replace")
    if text == "+PONG":
        return None
    if text.startswith("-NOAUTH"):
        return f"Redis at {where} needs a password (NOAUTH), but none is configured"
    if text.startswith("-LOADING"):
        return f"Redis at {where} is still loading its data; try again in a moment"
    if not text:
        return f"Redis at {where} closed the connection without answering PING"
    return f"Redis at {where} answered PING with {text[:60]!r}"


# --- RabbitMQ -----------------------------------------------------------------------------


def check_rabbitmq(host: str, port: int, *, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None when host:port answers the AMQP 0-9-1 header with Connection.Start; else the
    problem. (The connection is closed right after; RabbitMQ logs it as a closed handshake.)"""
    where = f"{host}:{port}"
    try:
        with _connect(host, port, timeout) as sock:
            sock.sendall(AMQP_HEADER)
            frame = _recv_exactly(sock, 11)  # type, channel, size, class id, method id
    except ConnectionRefusedError as exc:
        return f"RabbitMQ unreachable at {where} ({_reason(exc, timeout)})"
    except TimeoutError as exc:
        return f"RabbitMQ at {where} did not answer ({_reason(exc, timeout)})"
    except ConnectionResetError:
        return f"RabbitMQ at {where} closed the connection without answering"
    except OSError as exc:
        return f"RabbitMQ unreachable at {where} ({_reason(exc, timeout)})"
    if frame.startswith(b"AMQP"):
        return f"RabbitMQ at {where} does not speak AMQP 0-9-1 (it offered another version)"
    frame_type, channel, _size, class_id, method_id = struct.unpack("!BHIHH", frame)
    if (frame_type, channel, class_id, method_id) != (1, 0, 10, 10):
        return f"RabbitMQ at {where} does not speak AMQP 0-9-1"
    return None


# --- the production profile ---------------------------------------------------------------


def _postgres_target(url: str) -> tuple[str, int, str, str, str] | None:
    """(host, port, user, database, password) of a postgresql URL; None for other URLs."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgresql"):
        return None
    return (
        parts.hostname or "127.0.0.1",
        parts.port or 5432,
        unquote(parts.username or "postgres"),
        parts.path.lstrip("/") or "postgres",
        unquote(parts.password or ""),
    )


def production_service_problems(
    env: Mapping[str, str], *, timeout: float = TIMEOUT_SECONDS
) -> list[str]:
    """One line per service of the production profile that does not answer, from the
    variables the stack gives its processes (voordeur_cli.stack.StackConfig.environment):
    the handover database (DATABASE_URL), the tracker store (TRACKER_DB_*), the lock store
    (REDIS_*), the event broker (RABBITMQ_*). Empty when everything answers."""
    problems: list[str] = []
    postgres = []
    handover = _postgres_target(env.get("DATABASE_URL", ""))
    if handover:
        postgres.append(handover)
    if env.get("TRACKER_DB_HOST"):
        postgres.append(
            (
                env["TRACKER_DB_HOST"],
                int(env.get("TRACKER_DB_PORT") or 5432),
                env.get("TRACKER_DB_USER") or "postgres",
                env.get("TRACKER_DB_NAME") or "postgres",
                env.get("TRACKER_DB_PASSWORD") or "",
            )
        )
    unreachable: set[tuple[str, int]] = set()
    for host, port, user, database, password in postgres:
        if (host, port) in unreachable:
            continue  # one line per server, not per database
        problem = check_postgres(
            host, port, user=user, database=database, password=password, timeout=timeout
        )
        if problem:
            problems.append(problem)
            if "unreachable" in problem or "did not answer" in problem:
                unreachable.add((host, port))
    if env.get("REDIS_HOST"):
        problem = check_redis(
            env["REDIS_HOST"], int(env.get("REDIS_PORT") or 6379), timeout=timeout
        )
        if problem:
            problems.append(problem)
    if env.get("RABBITMQ_HOST"):
        problem = check_rabbitmq(
            env["RABBITMQ_HOST"], int(env.get("RABBITMQ_PORT") or 5672), timeout=timeout
        )
        if problem:
            problems.append(problem)
    return problems
