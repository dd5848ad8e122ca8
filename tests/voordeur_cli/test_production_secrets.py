"""`voordeur run --production` refuses missing and placeholder secrets and demo staff tokens;
the production profile never falls back to development placeholders (stdlib CLI, no processes
are started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voordeur_cli.main import DEV_STAFF_TOKENS, production_config
from voordeur_cli.stack import (
    DEV_SERVICE_TOKEN,
    DEV_TWILIO_ACCOUNT_SID,
    DEV_TWILIO_AUTH_TOKEN,
    PRODUCTION_TWILIO_DEDUP_URL,
    TWILIO_DEDUP_VARIABLE,
    ProductionSecretsError,
    StackConfig,
    production_secret_problems,
    refusal_message,
    running_stack,
)

MODEL = Path("models/some-model.tar.gz")
REAL = {
    "VOORDEUR_SERVICE_TOKEN": "9f2c41d0a7e84b6c9d3e5f10a2b4c6d8",
    "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
    "TWILIO_AUTH_TOKEN": "5e8d1c2b3a4f60718293a4b5c6d7e8f9",
}
REAL_KWARGS = {
    "service_token": REAL["VOORDEUR_SERVICE_TOKEN"],
    "twilio_account_sid": REAL["TWILIO_ACCOUNT_SID"],
    "twilio_auth_token": REAL["TWILIO_AUTH_TOKEN"],
}
PORTS = {"api_port": 18000, "rasa_port": 15005, "actions_port": 15055}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the developer's shell exports must not leak into these checks."""
    for name in (*REAL, *DEV_STAFF_TOKENS, TWILIO_DEDUP_VARIABLE):
        monkeypatch.delenv(name, raising=False)


def test_real_secrets_pass() -> None:
    assert production_secret_problems(REAL) == []


def test_everything_missing_is_listed() -> None:
    assert production_secret_problems({}) == [
        "VOORDEUR_SERVICE_TOKEN is not set",
        "TWILIO_ACCOUNT_SID is not set",
        "TWILIO_AUTH_TOKEN is not set",
    ]
    assert production_secret_problems({name: "  " for name in REAL})[0] == (
        "VOORDEUR_SERVICE_TOKEN is not set"
    )


def test_the_development_placeholders_are_refused() -> None:
    environ = {
        "VOORDEUR_SERVICE_TOKEN": DEV_SERVICE_TOKEN,
        "TWILIO_ACCOUNT_SID": DEV_TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DEV_TWILIO_AUTH_TOKEN,
    }
    assert production_secret_problems(environ) == [
        "VOORDEUR_SERVICE_TOKEN is a development placeholder",
        "TWILIO_ACCOUNT_SID is a development placeholder",
        "TWILIO_AUTH_TOKEN is a development placeholder",
    ]


@pytest.mark.parametrize(
    "value", ["CHANGEME-please-0123456789abcdef", "your-token-placeholder-1234"]
)
def test_obvious_placeholders_are_refused(value: str) -> None:
    problems = production_secret_problems({**REAL, "TWILIO_AUTH_TOKEN": value})
    assert problems == ["TWILIO_AUTH_TOKEN is a development placeholder"]


def test_short_service_token_and_malformed_account_sid_are_refused() -> None:
    environ = {**REAL, "VOORDEUR_SERVICE_TOKEN": "short-secret", "TWILIO_ACCOUNT_SID": "AC123"}
    assert production_secret_problems(environ) == [
        "VOORDEUR_SERVICE_TOKEN is shorter than 24 characters",
        "TWILIO_ACCOUNT_SID is not a Twilio account SID (AC + 32 hex characters)",
    ]


def test_demo_staff_tokens_are_refused_whatever_their_value() -> None:
    environ = {**REAL, "VOORDEUR_DEMO_TOKEN_HELMOND": "a-long-random-looking-value-1234567"}
    assert production_secret_problems(environ) == [
        "VOORDEUR_DEMO_TOKEN_HELMOND is set (demo staff tokens are for local runs only)"
    ]


def test_refusal_message_names_the_variables_but_never_a_value() -> None:
    environ = {**REAL, "VOORDEUR_SERVICE_TOKEN": "too-short-but-secret"}
    message = refusal_message(production_secret_problems(environ))
    assert "Refusing to start the production profile" in message
    assert "VOORDEUR_SERVICE_TOKEN is shorter than 24 characters" in message
    assert "too-short-but-secret" not in message


def test_run_production_config_takes_the_secrets_from_the_environment() -> None:
    cfg = production_config(MODEL, REAL, **PORTS)
    assert isinstance(cfg, StackConfig)
    env = cfg.environment()
    assert env["VOORDEUR_ENV"] == "production"
    for name, value in REAL.items():
        assert env[name] == value
    assert not any(name in env for name in DEV_STAFF_TOKENS)  # never demo users
    assert cfg.secret_problems() == []


def test_run_production_config_refuses_placeholders() -> None:
    environ = {**REAL, "TWILIO_AUTH_TOKEN": DEV_TWILIO_AUTH_TOKEN, **DEV_STAFF_TOKENS}
    assert production_config(MODEL, environ, **PORTS) == [
        "TWILIO_AUTH_TOKEN is a development placeholder",
        "VOORDEUR_DEMO_TOKEN_PEEL61 is set (demo staff tokens are for local runs only)",
        "VOORDEUR_DEMO_TOKEN_HELMOND is set (demo staff tokens are for local runs only)",
        "VOORDEUR_DEMO_TOKEN_REVIEWER is set (demo staff tokens are for local runs only)",
    ]


def test_production_profile_has_no_placeholder_fallbacks(tmp_path: Path) -> None:
    cfg = StackConfig.production_profile(MODEL, "voordeur", var_dir=tmp_path)
    env = cfg.environment()
    assert "TWILIO_AUTH_TOKEN" not in env and "TWILIO_ACCOUNT_SID" not in env
    assert cfg.secret_problems() == [
        "VOORDEUR_SERVICE_TOKEN is a development placeholder",
        "TWILIO_ACCOUNT_SID is not set",
        "TWILIO_AUTH_TOKEN is not set",
    ]
    # running_stack refuses before it migrates or starts anything.
    with pytest.raises(ProductionSecretsError) as info, running_stack(cfg):
        pytest.fail("the stack must not start")
    assert info.value.problems == cfg.secret_problems()
    assert not (tmp_path / "logs").exists()


def test_explicit_test_secrets_satisfy_the_production_profile() -> None:
    cfg = StackConfig.production_profile(
        MODEL,
        "voordeur_e2e",
        service_token="e2e-service-token-0123456789",
        twilio_account_sid="AC" + "e2e0" * 8,
        twilio_auth_token="e2e-twilio-auth-token-0123456789",
        env="test",
    )
    assert cfg.secret_problems() == []
    assert cfg.environment()["VOORDEUR_ENV"] == "test"
    assert cfg.environment()["TWILIO_AUTH_TOKEN"] == "e2e-twilio-auth-token-0123456789"


def test_local_profile_keeps_its_placeholders() -> None:
    cfg = StackConfig(model=MODEL)
    env = cfg.environment()
    assert env["VOORDEUR_SERVICE_TOKEN"] == DEV_SERVICE_TOKEN
    assert env["TWILIO_AUTH_TOKEN"] == DEV_TWILIO_AUTH_TOKEN
    assert cfg.secret_problems() == []


def test_twilio_dedup_url_only_for_rasa_in_the_production_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prod = StackConfig.production_profile(MODEL, "voordeur", **REAL_KWARGS)
    assert prod.rasa_environment()[TWILIO_DEDUP_VARIABLE] == PRODUCTION_TWILIO_DEDUP_URL
    assert TWILIO_DEDUP_VARIABLE not in prod.environment()  # API and action server: not theirs
    monkeypatch.setenv(TWILIO_DEDUP_VARIABLE, "redis://elsewhere:6379/9")
    local = StackConfig(model=MODEL)
    assert TWILIO_DEDUP_VARIABLE not in local.rasa_environment()  # local runs without Redis


def test_run_production_refuses_before_installing_or_training(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from voordeur_cli import envs
    from voordeur_cli import main as cli

    def _must_not_run() -> None:
        pytest.fail("setup must not run when the secrets are refused")

    monkeypatch.setattr(envs, "ensure_all", _must_not_run)
    monkeypatch.setenv("VOORDEUR_SERVICE_TOKEN", DEV_SERVICE_TOKEN)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", REAL["TWILIO_AUTH_TOKEN"])
    assert cli.main(["run", "--production", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "VOORDEUR_SERVICE_TOKEN is a development placeholder" in err
    assert "TWILIO_ACCOUNT_SID is not set" in err
    assert "TWILIO_AUTH_TOKEN" not in err  # the real one is fine and not mentioned
