"""The handover request is checked against the contract's schema before the API sees it."""

from actions.handover import ActionSubmitHandover, current_consent, route_for
from actions.handover_request import request_problems
from actions.regions import load_regions
from tests.actions.conftest import make_tracker, valid_request


def test_a_valid_request_has_no_problems() -> None:
    assert request_problems(valid_request()) == []


def test_what_the_api_refuses_is_named() -> None:
    broken = valid_request(channel="fax", municipality={"code": "0794", "name": "Helmond"})
    del broken["consent"]
    problems = request_problems(broken)
    assert any(p.startswith("channel:") for p in problems)
    assert any(p.startswith("municipality/code:") for p in problems)
    assert any("'consent' is a required property" in p for p in problems)
    broken = valid_request(application={"type": "toeslag", "fields": {}, "complete": True})
    assert request_problems(broken)


def test_the_built_request_follows_the_contract() -> None:
    tracker = make_tracker(
        text="ik wil bijzondere bijstand aanvragen",
        slots={
            "gemeente_code": "GM0794",
            "gemeente": "Helmond",
            "regeling": "bijzondere_bijstand",
            "aanvraag_type": "bijzondere_bijstand",
            "aanvraag_kosten_omschrijving": "bril",
            "consent_given": True,
            "consent_at": "2026-12-02T10:00:00+00:00",
            "consent_version": current_consent(None, True)[0],
            "contact_phone": "0612345678",
        },
    )
    chosen = route_for(tracker, load_regions())
    payload = ActionSubmitHandover.build_payload(tracker, chosen, "GM0794", "Helmond", "c-1")
    assert request_problems(payload) == []
    assert payload["application"] is not None
    assert payload["application"]["fields"]["kosten_omschrijving"] == "bril"
