"""Start-up checks of the production profile (voordeur_cli/preflight.py): a service that is
down, busy with something else or refusing us is named with its address and the reason, and
`running_stack` stops before it starts anything. Fake servers on loopback speak just enough of
each protocol; the machine's own services are checked too when they run."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from voordeur_cli import preflight
from voordeur_cli.preflight import (
    ServicesUnavailableError,
    check_postgres,
    check_rabbitmq,
    check_redis,
    production_service_problems,
)
from voordeur_cli.stack import StackConfig, free_port, running_stack

Reply = Callable[[socket.socket], None]


@pytest.fixture
def fake_server() -> Iterator[Callable[[Reply], int]]:
    """fake_server(reply) -> port: every connection is handed to `reply`, then closed."""
    listeners: list[socket.socket] = []

    def start(reply: Reply) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn, contextlib.suppress(OSError):
                    reply(conn)

        threading.Thread(target=serve, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for listener in listeners:
        listener.close()


def closed_port() -> int:
    return free_port()  # nobody listens there


def _pg_message(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("!I", len(payload) + 4) + payload


def _pg_reply(*messages: bytes) -> Reply:
    def reply(conn: socket.socket) -> None:
        conn.recv(1024)  # the start-up message
        conn.sendall(b"".join(messages))
        conn.recv(16)  # Terminate, or the client closing

    return reply


PG_OK = (
    _pg_message(b"R", struct.pack("!I", 0)),
    _pg_message(b"S", b"server_version\x0015.5\x00"),
    _pg_message(b"K", struct.pack("!II", 1, 2)),
    _pg_message(b"Z", b"I"),
)


# --- PostgreSQL ---------------------------------------------------------------------------


def test_postgres_unreachable_names_address_and_reason() -> None:
    port = closed_port()
    assert check_postgres("127.0.0.1", port) == (
        f"PostgreSQL unreachable at 127.0.0.1:{port} (connection refused)"
    )


def test_postgres_ready_for_query_is_fine(fake_server: Callable[[Reply], int]) -> None:
    assert check_postgres("127.0.0.1", fake_server(_pg_reply(*PG_OK))) is None


def test_postgres_error_is_quoted(fake_server: Callable[[Reply], int]) -> None:
    error = b'SFATAL\x00VFATAL\x00C3D000\x00Mdatabase "vd_tracker" does not exist\x00\x00'
    port = fake_server(_pg_reply(_pg_message(b"E", error)))
    assert check_postgres("127.0.0.1", port, database="vd_tracker") == (
        f"PostgreSQL at 127.0.0.1:{port} refused the connection: "
        'FATAL 3D000: database "vd_tracker" does not exist'
    )


def test_postgres_starting_up_is_reported(fake_server: Callable[[Reply], int]) -> None:
    error = b"SFATAL\x00C57P03\x00Mthe database system is starting up\x00\x00"
    port = fake_server(_pg_reply(_pg_message(b"E", error)))
    problem = check_postgres("127.0.0.1", port)
    assert problem and problem.endswith("FATAL 57P03: the database system is starting up")


def test_postgres_password_request(fake_server: Callable[[Reply], int]) -> None:
    port = fake_server(_pg_reply(_pg_message(b"R", struct.pack("!I", 10) + b"SCRAM-SHA-256\0\0")))
    assert check_postgres("127.0.0.1", port) == (
        f"PostgreSQL at 127.0.0.1:{port} asks user 'postgres' for a password "
        "(authentication method 10), but none is configured"
    )
    assert check_postgres("127.0.0.1", port, password="secret") is None


def test_something_else_on_the_postgres_port(fake_server: Callable[[Reply], int]) -> None:
    port = fake_server(lambda conn: (conn.recv(1024), conn.sendall(b"HTTP/1.1 400 Bad\r\n\r\n")))
    assert check_postgres("127.0.0.1", port) == (
        f"PostgreSQL at 127.0.0.1:{port} does not speak the PostgreSQL protocol"
    )


def test_a_silent_server_times_out(fake_server: Callable[[Reply], int]) -> None:
    hold = threading.Event()
    port = fake_server(lambda conn: (conn.recv(1024), hold.wait(3)))
    try:
        assert check_postgres("127.0.0.1", port, timeout=0.3) == (
            f"PostgreSQL at 127.0.0.1:{port} did not answer (no answer within 0.3 s)"
        )
        assert check_redis("127.0.0.1", port, timeout=0.3) == (
            f"Redis at 127.0.0.1:{port} did not answer PING (no answer within 0.3 s)"
        )
        assert check_rabbitmq("127.0.0.1", port, timeout=0.3) == (
            f"RabbitMQ at 127.0.0.1:{port} did not answer (no answer within 0.3 s)"
        )
    finally:
        hold.set()


# --- Redis --------------------------------------------------------------------------------


def _redis(answer: bytes) -> Reply:
    def reply(conn: socket.socket) -> None:
        assert conn.recv(64) == b"PING\r\n"
        conn.sendall(answer)

    return reply


def test_redis_pong_is_fine(fake_server: Callable[[Reply], int]) -> None:
    assert check_redis("127.0.0.1", fake_server(_redis(b"+PONG\r\n"))) is None


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (b"-NOAUTH Authentication required.\r\n", "needs a password (NOAUTH)"),
        (b"-LOADING Redis is loading the dataset in memory\r\n", "is still loading its data"),
        (b"", "closed the connection without answering PING"),
        (b"-ERR unknown command\r\n", "answered PING with '-ERR unknown command'"),
    ],
)
def test_redis_problems(fake_server: Callable[[Reply], int], answer: bytes, problem: str) -> None:
    port = fake_server(_redis(answer))
    found = check_redis("127.0.0.1", port)
    assert found is not None and found.startswith(f"Redis at 127.0.0.1:{port} ")
    assert problem in found


def test_redis_unreachable() -> None:
    port = closed_port()
    assert check_redis("127.0.0.1", port) == (
        f"Redis unreachable at 127.0.0.1:{port} (connection refused)"
    )


# --- RabbitMQ -----------------------------------------------------------------------------


def _amqp(answer: bytes) -> Reply:
    def reply(conn: socket.socket) -> None:
        assert conn.recv(8) == preflight.AMQP_HEADER
        conn.sendall(answer)

    return reply


CONNECTION_START = struct.pack("!BHIHH", 1, 0, 200, 10, 10) + b"\x00\x09" + b"\x00" * 20


def test_rabbitmq_connection_start_is_fine(fake_server: Callable[[Reply], int]) -> None:
    assert check_rabbitmq("127.0.0.1", fake_server(_amqp(CONNECTION_START))) is None


def test_rabbitmq_other_protocol_version(fake_server: Callable[[Reply], int]) -> None:
    port = fake_server(_amqp(b"AMQP\x01\x01\x00\x0a" + b"\x00" * 3))
    assert check_rabbitmq("127.0.0.1", port) == (
        f"RabbitMQ at 127.0.0.1:{port} does not speak AMQP 0-9-1 (it offered another version)"
    )


def test_rabbitmq_hang_up(fake_server: Callable[[Reply], int]) -> None:
    port = fake_server(_amqp(b""))
    assert check_rabbitmq("127.0.0.1", port) == (
        f"RabbitMQ at 127.0.0.1:{port} closed the connection without answering"
    )


def test_rabbitmq_unreachable() -> None:
    port = closed_port()
    assert check_rabbitmq("127.0.0.1", port) == (
        f"RabbitMQ unreachable at 127.0.0.1:{port} (connection refused)"
    )


def test_unknown_host() -> None:
    assert check_redis("no-such-host.invalid", 6379) == (
        "Redis unreachable at no-such-host.invalid:6379 (unknown host)"
    )


# --- the production profile ---------------------------------------------------------------


def _profile(tmp_path: Path, **ports: int) -> StackConfig:
    return StackConfig.production_profile(
        Path("model.tar.gz"),
        "vd_preflight",
        var_dir=tmp_path,
        service_token="preflight-service-token-0123456789",
        twilio_account_sid="AC" + "0123456789abcdef" * 2,
        twilio_auth_token="preflight-twilio-auth-token-0123",
        **ports,
    )


def test_every_service_of_the_profile_is_checked_once_per_server(tmp_path: Path) -> None:
    pg, redis, rabbit = closed_port(), closed_port(), closed_port()
    cfg = _profile(tmp_path, postgres_port=pg, redis_port=redis, rabbitmq_port=rabbit)
    assert production_service_problems(cfg.environment()) == [
        f"PostgreSQL unreachable at 127.0.0.1:{pg} (connection refused)",
        f"Redis unreachable at 127.0.0.1:{redis} (connection refused)",
        f"RabbitMQ unreachable at 127.0.0.1:{rabbit} (connection refused)",
    ]


def test_both_databases_are_checked(tmp_path: Path, fake_server: Callable[[Reply], int]) -> None:
    seen: list[bytes] = []

    def reply(conn: socket.socket) -> None:
        seen.append(conn.recv(1024))
        conn.sendall(b"".join(PG_OK))

    pg = fake_server(reply)
    redis = fake_server(_redis(b"+PONG\r\n"))
    rabbit = fake_server(_amqp(CONNECTION_START))
    cfg = _profile(tmp_path, postgres_port=pg, redis_port=redis, rabbitmq_port=rabbit)
    assert production_service_problems(cfg.environment()) == []
    assert [b"database\x00vd_preflight\x00" in m for m in seen] == [True, False]
    assert b"database\x00vd_preflight_tracker\x00" in seen[1]


def test_running_stack_stops_before_starting_anything(tmp_path: Path) -> None:
    pg = closed_port()
    cfg = _profile(tmp_path, postgres_port=pg, redis_port=closed_port())
    with pytest.raises(ServicesUnavailableError) as info, running_stack(cfg):
        pytest.fail("the stack must not start")
    message = str(info.value)
    assert message.startswith("Not starting the production profile; these services do not answer")
    assert f"  - PostgreSQL unreachable at 127.0.0.1:{pg} (connection refused)" in message
    assert len(info.value.problems) == 2  # PostgreSQL and Redis; RabbitMQ on 5672 may run
    assert not (tmp_path / "logs").exists(), "nothing was started or migrated"


def test_the_local_profile_needs_none_of_them(tmp_path: Path) -> None:
    cfg = StackConfig(model=Path("model.tar.gz"), var_dir=tmp_path)
    assert production_service_problems(cfg.environment()) == []


@pytest.mark.skipif(
    check_postgres("127.0.0.1", 5432, timeout=1) is not None
    or check_redis("127.0.0.1", 6379, timeout=1) is not None
    or check_rabbitmq("127.0.0.1", 5672, timeout=1) is not None,
    reason="this machine's PostgreSQL, Redis or RabbitMQ is not running",
)
def test_the_real_services_of_this_machine_pass() -> None:
    assert check_postgres("127.0.0.1", 5432) is None
    assert check_redis("127.0.0.1", 6379) is None
    assert check_rabbitmq("127.0.0.1", 5672) is None
    problem = check_postgres("127.0.0.1", 5432, database="voordeur_no_such_database")
    assert problem == (
        "PostgreSQL at 127.0.0.1:5432 refused the connection: "
        'FATAL 3D000: database "voordeur_no_such_database" does not exist'
    )


# --- `voordeur run --production` ----------------------------------------------------------

SECRETS = {
    "VOORDEUR_SERVICE_TOKEN": "9f2c41d0a7e84b6c9d3e5f10a2b4c6d8",
    "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
    "TWILIO_AUTH_TOKEN": "5e8d1c2b3a4f60718293a4b5c6d7e8f9",
}


def test_run_production_names_the_missing_service_before_installing_or_training(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from voordeur_cli import envs, main, system

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(system, "ensure_production_services", lambda: False)
    monkeypatch.setattr(
        preflight, "check_postgres", lambda *_a, **_k: "PostgreSQL unreachable at X (why)"
    )
    monkeypatch.setattr(preflight, "check_redis", lambda *_a, **_k: None)
    monkeypatch.setattr(preflight, "check_rabbitmq", lambda *_a, **_k: None)

    def never() -> None:
        pytest.fail("nothing is installed or trained when a service is missing")

    monkeypatch.setattr(envs, "ensure_all", never)
    assert main.main(["run", "--production", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "Not starting the production profile" in err
    assert "  - PostgreSQL unreachable at X (why)" in err


def test_run_scale_options() -> None:
    from voordeur_cli.main import _scale, build_parser

    def scale(*argv: str) -> dict[str, int] | str:
        return _scale(build_parser().parse_args(["run", *argv]))

    assert scale() == {"rasa_instances": 1, "action_servers": 1, "api_workers": 1}
    assert scale("--production") == {"rasa_instances": 2, "action_servers": 2, "api_workers": 2}
    assert scale("--production", "--rasa-instances", "3", "--api-workers", "4") == {
        "rasa_instances": 3,
        "action_servers": 2,
        "api_workers": 4,
    }
    assert scale("--action-servers", "2") == {
        "rasa_instances": 1,
        "action_servers": 2,
        "api_workers": 1,
    }
    problem = scale("--rasa-instances", "2")
    assert isinstance(problem, str) and "need --production" in problem
    assert scale("--production", "--rasa-instances", "0") == (
        "--rasa-instances, --action-servers and --api-workers must be at least 1"
    )
