"""The load balancer of the production profile: Debian's nginx in front of several Rasa
instances (and several action servers), run by the stack as one foreground process.

`render_config` writes an nginx.conf with everything under the stack's var dir (pid file,
temporary files; the error log is stderr, which the stack sends to `logs/balancer.log`), so
nginx needs no root-owned path and several stacks can run side by side on one machine:

    nginx -g 'daemon off;' -p <var_dir>/balancer -c <var_dir>/balancer/nginx.conf

What the configuration promises:

- Round robin over the instances, no sticky sessions: the Rasa instances share the PostgreSQL
  tracker store and the Redis lock store, so a conversation's next message may go anywhere.
  Only socket.io (`/socket.io/`) is pinned to an instance per client address: its session id
  lives in one process (long polling would otherwise be refused by the other instance).
- A request goes to the next instance only when the instance could not be reached
  (`proxy_next_upstream error timeout`: connection refused or connect timeout). POSTs are not
  replayed once an instance accepted them (`non_idempotent` is deliberately absent): a message
  Rasa already started on must not be handled twice.
- No instance is ever marked unavailable (`max_fails=0`): a request that finds one refusing
  connections simply goes on to the next, and a restarted instance gets traffic back at
  once. (With nginx's default marking, a rolling restart — one instance back, the next one
  stopped within `fail_timeout` — left no live instance and answered 502.) On loopback a
  refused connection costs microseconds.
- WebSocket upgrades (socket.io) are passed on; the Host header is kept as the client sent it
  (Twilio's signature covers the URL Twilio called).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

# How long nginx waits for an instance to accept a connection before trying the next one.
CONNECT_TIMEOUT_SECONDS = 2
# A turn is answered in well under a second; the first turns after a start (TensorFlow
# warm-up) and a slow handover API call can take longer. Also longer than socket.io's ping
# interval (25 s), so an idle websocket or long poll is not cut.
READ_TIMEOUT_SECONDS = 120
# Idle connections to an instance are kept shorter than the instances keep them (Sanic closes
# them after 5 s): nginx must never send a request on a connection the instance is closing,
# because a POST that failed that way is not sent to the next instance.
UPSTREAM_KEEPALIVE_SECONDS = 3
# The path the stack polls to know the balancer itself is up (answered by nginx, not Rasa).
HEALTH_PATH = "/balancer-health"
# Request bodies up to this size stay in memory (nginx's default, 16k, wrote most calls to the
# action server to a temporary file).
BODY_BUFFER = "1m"
NGINX = "nginx"


@dataclass(frozen=True)
class Upstream:
    """One listening port of the balancer and the instances behind it."""

    name: str  # nginx upstream name: letters, digits and underscores
    listen_port: int
    ports: tuple[int, ...]
    host: str = "127.0.0.1"
    # socket.io keeps its session in one process: pin it per client address (Rasa only).
    socketio: bool = False
    # Largest request body (Rasa: messages; action server: trackers with every event).
    max_body: str = "10m"

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").isalnum():
            raise ValueError(f"upstream name must be letters, digits and _: {self.name!r}")
        if not self.ports:
            raise ValueError(f"upstream {self.name} has no instances")
        if self.listen_port in self.ports:
            raise ValueError(f"upstream {self.name} listens on one of its instances' ports")


def _servers(upstream: Upstream) -> str:
    return "\n".join(
        f"        server {upstream.host}:{port} max_fails=0;" for port in upstream.ports
    )


def _upstream_blocks(upstream: Upstream) -> str:
    blocks = f"""    upstream {upstream.name} {{
{_servers(upstream)}
        keepalive 32;
        keepalive_timeout {UPSTREAM_KEEPALIVE_SECONDS}s;
    }}
"""
    if upstream.socketio:
        blocks += f"""    upstream {upstream.name}_socketio {{
        hash $remote_addr consistent;
{_servers(upstream)}
    }}
"""
    return blocks


def _proxy(upstream_name: str, tries: int, *, keepalive: bool) -> str:
    # keepalive to the instances needs an empty Connection header; a WebSocket upgrade needs
    # "upgrade" (the map in the http block chooses).
    connection = "$connection_upgrade" if not keepalive else '""'
    return f"""            proxy_pass http://{upstream_name};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection {connection};
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout {CONNECT_TIMEOUT_SECONDS}s;
            proxy_send_timeout {READ_TIMEOUT_SECONDS}s;
            proxy_read_timeout {READ_TIMEOUT_SECONDS}s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries {tries};"""


def _server_block(upstream: Upstream) -> str:
    tries = len(upstream.ports)
    socketio = ""
    if upstream.socketio:
        socketio = f"""
        location /socket.io/ {{
{_proxy(upstream.name + "_socketio", tries, keepalive=False)}
        }}
"""
    return f"""    server {{
        listen {upstream.host}:{upstream.listen_port};
        client_max_body_size {upstream.max_body};
        # Rasa posts the whole tracker to the action server: kept in memory, not a temp file.
        client_body_buffer_size {BODY_BUFFER};
        location = {HEALTH_PATH} {{
            default_type text/plain;
            return 200 "ok\\n";
        }}
{socketio}
        location / {{
{_proxy(upstream.name, tries, keepalive=True)}
        }}
    }}
"""


def render_config(prefix: Path, upstreams: list[Upstream], *, user: str | None = None) -> str:
    """nginx.conf for `upstreams`, with every file nginx writes under `prefix`.

    `user`: the account of nginx's worker process, only when started as root (then the
    default, nobody, could not write temporary files under `prefix`); None otherwise.
    """
    if not upstreams:
        raise ValueError("no upstreams to balance")
    ports = [u.listen_port for u in upstreams]
    if len(set(ports)) != len(ports):
        raise ValueError(f"two upstreams listen on one port: {ports}")
    temp = prefix / "temp"
    user_line = f"user {user};\n" if user else ""
    blocks = "".join(_upstream_blocks(u) for u in upstreams)
    servers = "".join(_server_block(u) for u in upstreams)
    return f"""# Rendered by voordeur_cli/balancer.py for this run; changes are overwritten.
{user_line}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log stderr warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {temp / "client_body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    keepalive_timeout 75s;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        "" close;
    }}

{blocks}
{servers}}}
"""


def write_config(prefix: Path, upstreams: list[Upstream]) -> Path:
    """Writes `<prefix>/nginx.conf` (and the temporary directories); returns its path."""
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    user = "root" if os.geteuid() == 0 else None
    conf = prefix / "nginx.conf"
    conf.write_text(render_config(prefix, upstreams, user=user))
    return conf


def nginx_binary() -> str | None:
    """Debian's nginx (/usr/sbin is not on every user's PATH)."""
    found = shutil.which(NGINX)
    if found:
        return found
    for candidate in (Path("/usr/sbin/nginx"), Path("/usr/local/sbin/nginx")):
        if candidate.exists():
            return str(candidate)
    return None


def nginx_command(binary: str, prefix: Path, conf: Path) -> list[str]:
    """nginx in the foreground with our prefix and configuration."""
    return [binary, "-g", "daemon off;", "-p", str(prefix), "-c", str(conf)]


def check_command(binary: str, prefix: Path, conf: Path) -> list[str]:
    """`nginx -t` for the same configuration (a readable error before the stack starts)."""
    return [binary, "-t", "-q", "-p", str(prefix), "-c", str(conf)]
