"""The production profile's load balancer (voordeur_cli/balancer.py): the nginx configuration
it renders, and — with Debian's nginx, when installed — what that configuration does with two
small HTTP servers behind it: round robin, failing over when an instance refuses connections,
and never sending a POST a second time once an instance accepted it."""

from __future__ import annotations

import http.server
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from voordeur_cli import balancer
from voordeur_cli.balancer import Upstream, render_config
from voordeur_cli.stack import StackConfig, free_port, service_names

RASA = Upstream("rasa", 5005, (15001, 15002), socketio=True)
ACTIONS = Upstream("actions", 5055, (15101, 15102, 15103), max_body="64m")


def test_upstreams_list_every_instance_never_marked_down(tmp_path: Path) -> None:
    conf = render_config(tmp_path, [RASA, ACTIONS])
    # max_fails=0: a rolling restart never leaves nginx without a "live" instance.
    for port in (15001, 15002, 15101, 15102, 15103):
        assert f"server 127.0.0.1:{port} max_fails=0;" in conf
    assert "listen 127.0.0.1:5005;" in conf and "listen 127.0.0.1:5055;" in conf
    assert "proxy_next_upstream_tries 2;" in conf and "proxy_next_upstream_tries 3;" in conf
    assert "client_max_body_size 64m;" in conf


def test_only_connection_failures_go_to_the_next_instance(tmp_path: Path) -> None:
    conf = render_config(tmp_path, [RASA])
    assert conf.count("proxy_next_upstream error timeout;") == 2  # / and /socket.io/
    # A POST that reached an instance is never replayed on another one.
    assert "non_idempotent" not in conf
    assert "http_502" not in conf and "http_503" not in conf
    assert f"proxy_connect_timeout {balancer.CONNECT_TIMEOUT_SECONDS}s;" in conf
    assert f"proxy_read_timeout {balancer.READ_TIMEOUT_SECONDS}s;" in conf


def test_no_sticky_sessions_except_socketio(tmp_path: Path) -> None:
    conf = render_config(tmp_path, [RASA, ACTIONS])
    rasa_block = conf.split("upstream rasa {")[1].split("}")[0]
    assert "hash" not in rasa_block and "ip_hash" not in rasa_block
    socketio_block = conf.split("upstream rasa_socketio {")[1].split("}")[0]
    assert "hash $remote_addr consistent;" in socketio_block
    assert "location /socket.io/" in conf
    assert "upstream actions_socketio" not in conf


def test_websocket_upgrade_and_client_host_are_passed_on(tmp_path: Path) -> None:
    conf = render_config(tmp_path, [RASA])
    assert "map $http_upgrade $connection_upgrade" in conf
    socketio = conf.split("location /socket.io/ {")[1].split("}")[0]
    assert "proxy_set_header Upgrade $http_upgrade;" in socketio
    assert "proxy_set_header Connection $connection_upgrade;" in socketio
    assert "proxy_http_version 1.1;" in socketio
    # Twilio signs the URL it called, port included: $host would drop the port.
    assert "proxy_set_header Host $http_host;" in conf


def test_upstream_keepalive_is_shorter_than_the_instances_keep_it(tmp_path: Path) -> None:
    conf = render_config(tmp_path, [RASA])
    # Sanic (Rasa, action server) closes idle connections after 5 s.
    assert balancer.UPSTREAM_KEEPALIVE_SECONDS < 5
    assert f"keepalive_timeout {balancer.UPSTREAM_KEEPALIVE_SECONDS}s;" in conf


def test_every_file_nginx_writes_is_under_the_prefix(tmp_path: Path) -> None:
    conf = render_config(tmp_path, [RASA])
    paths = [
        line.split()[1].rstrip(";")
        for line in conf.splitlines()
        if line.strip().startswith(("pid ", "client_body_temp_path", "proxy_temp_path"))
        or "_temp_path " in line
    ]
    assert len(paths) == 6
    assert all(path.startswith(str(tmp_path)) for path in paths), paths
    assert "error_log stderr" in conf and "access_log off;" in conf
    assert "/var/" not in conf and "/run/" not in conf
    assert "user " not in conf.split("events")[0]
    assert render_config(tmp_path, [RASA], user="root").startswith("# Rendered")
    assert "\nuser root;\n" in render_config(tmp_path, [RASA], user="root")


@pytest.mark.parametrize(
    ("upstreams", "message"),
    [
        ([], "no upstreams"),
        ([RASA, Upstream("other", 5005, (1,))], "two upstreams listen on one port"),
    ],
)
def test_impossible_configurations_are_refused(
    tmp_path: Path, upstreams: list[Upstream], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        render_config(tmp_path, upstreams)


def test_upstream_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="no instances"):
        Upstream("rasa", 5005, ())
    with pytest.raises(ValueError, match="listens on one of its instances"):
        Upstream("rasa", 5005, (5005, 5006))
    with pytest.raises(ValueError, match="letters, digits"):
        Upstream("rasa-1", 5005, (5006,))


def test_stack_names_and_urls_of_a_scaled_out_production_profile() -> None:
    cfg = StackConfig.production_profile(
        Path("model.tar.gz"),
        "voordeur",
        rasa_instances=2,
        action_servers=3,
        api_workers=2,
        rasa_port=5005,
        actions_port=5055,
    )
    assert cfg.balanced
    assert cfg.rasa_url == "http://127.0.0.1:5005"  # the balancer
    assert len(cfg.rasa_instance_urls) == 2 and cfg.rasa_url not in cfg.rasa_instance_urls
    assert cfg.rasa_instance_urls == cfg.rasa_instance_urls  # ports are chosen once
    assert len(set(cfg.action_ports)) == 3 and 5055 not in cfg.action_ports
    assert service_names(cfg) == [
        "handover-api",
        "action-server-1",
        "action-server-2",
        "action-server-3",
        "balancer",
        "rasa-1",
        "rasa-2",
        "worker",
        "review-consumer",
    ]
    assert cfg.environment()["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5055/webhook"


def test_the_local_profile_keeps_one_process_each() -> None:
    cfg = StackConfig(model=Path("model.tar.gz"), rasa_port=5005, actions_port=5055)
    assert not cfg.balanced
    assert cfg.rasa_instance_urls == [cfg.rasa_url]
    assert cfg.action_ports == [5055]
    assert service_names(cfg) == ["handover-api", "action-server", "rasa", "worker"]


def test_production_profile_ports_reach_every_process() -> None:
    cfg = StackConfig.production_profile(
        Path("m"), "vd", postgres_port=15432, redis_port=16379, rabbitmq_port=15672
    )
    env = cfg.environment()
    assert env["DATABASE_URL"] == "postgresql+psycopg://postgres@127.0.0.1:15432/vd"
    assert (env["TRACKER_DB_PORT"], env["REDIS_PORT"], env["RABBITMQ_PORT"]) == (
        "15432",
        "16379",
        "15672",
    )
    assert cfg.rasa_environment()["VOORDEUR_TWILIO_DEDUP_URL"] == "redis://127.0.0.1:16379/2"


# --- with Debian's nginx --------------------------------------------------------------------

NGINX = balancer.nginx_binary()
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


class _Backend(http.server.ThreadingHTTPServer):
    """A tiny instance: answers its name; `drop_posts` reads a POST and hangs up unanswered."""

    daemon_threads = True

    def __init__(self, name: str, *, drop_posts: bool = False, port: int = 0) -> None:
        self.name = name
        self.drop_posts = drop_posts
        self.posts: list[bytes] = []
        super().__init__(("127.0.0.1", port), _Handler)

    def serve_in_background(self) -> _Backend:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()  # its port now refuses connections

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Backend
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: object) -> None:
        pass

    def _answer(self) -> None:
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        # A stopped backend must not go on answering on a kept-alive connection.
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.server.posts.append(self.rfile.read(int(self.headers["Content-Length"])))
        if self.server.drop_posts:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._answer()


@pytest.fixture
def backends() -> Iterator[list[_Backend]]:
    servers = [_Backend("a").serve_in_background(), _Backend("b", drop_posts=True)]
    servers[1].serve_in_background()
    yield servers
    for server in servers:
        server.stop()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _post(url: str, body: bytes) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def nginx(tmp_path: Path, backends: list[_Backend]) -> Iterator[str]:
    assert NGINX is not None
    listen = free_port()
    prefix = tmp_path / "balancer"
    conf = balancer.write_config(
        prefix, [Upstream("rasa", listen, tuple(b.port for b in backends), socketio=True)]
    )
    checked = subprocess.run(
        balancer.check_command(NGINX, prefix, conf), capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen(
        balancer.nginx_command(NGINX, prefix, conf),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{listen}"
    try:
        deadline = time.monotonic() + 10
        while _probe(url + balancer.HEALTH_PATH) != 200:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert (prefix / "temp" / "proxy").is_dir(), "temporary files live under the prefix"


def _probe(url: str) -> int | None:
    try:
        return _get(url)[0]
    except (urllib.error.URLError, ConnectionError):
        return None


@needs_nginx
def test_nginx_spreads_requests_over_the_instances(nginx: str) -> None:
    answers = {_get(f"{nginx}/status")[1] for _ in range(6)}
    assert answers == {"a", "b"}


@needs_nginx
def test_an_instance_that_refuses_connections_is_skipped(
    nginx: str, backends: list[_Backend]
) -> None:
    backends[1].stop()
    assert [_get(f"{nginx}/status") for _ in range(6)] == [(200, "a")] * 6
    assert all(_post(f"{nginx}/webhooks/rest/webhook", b"hallo") == 200 for _ in range(4))
    assert backends[0].posts == [b"hallo"] * 4


@needs_nginx
def test_a_post_an_instance_accepted_is_not_sent_again(
    nginx: str, backends: list[_Backend]
) -> None:
    statuses = [_post(f"{nginx}/webhooks/rest/webhook", f"turn {n}".encode()) for n in range(4)]
    dropped = backends[1].posts
    assert dropped, "round robin sent some POSTs to the instance that hangs up"
    assert statuses.count(502) == len(dropped), "a dropped POST is an error, not a replay"
    assert sorted(backends[0].posts + dropped) == [f"turn {n}".encode() for n in range(4)]


@needs_nginx
def test_a_rolling_restart_never_leaves_nginx_without_an_instance(
    nginx: str, backends: list[_Backend]
) -> None:
    first, second = backends
    first.stop()
    assert _get(f"{nginx}/status") == (200, "b")  # the first refuses: the second answers
    restarted = _Backend("a again", port=first.port).serve_in_background()
    backends.append(restarted)
    second.stop()  # at once: nginx must not still count the first one as down
    assert [_get(f"{nginx}/status") for _ in range(3)] == [(200, "a again")] * 3
