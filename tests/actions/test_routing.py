"""Routing is a pure function of (domains, crisis, service, municipality configuration).

The table states, per municipality of the four regions, who must receive each kind of case —
written out by hand from shared/contract/regions.md, not derived from the configuration, so a
configuration change that misroutes residents fails here.
"""

import pytest

from actions.regions import load_regions
from actions.routing import is_multi_problem, route

PEEL = "peel61"
IJMOND = "werkplein-ijmond"
ALKMAAR = "sociale-dienst-regio-alkmaar"
FERM_WERK = "ferm-werk"  # the source documents (2011) called it IASZ

# code: (regional work & income organisation for bijstand, local team organisation)
EXPECTED = {
    "GM0743": (PEEL, "gemeente-asten"),
    "GM0762": (PEEL, "gemeente-deurne"),
    "GM1652": (PEEL, "gemeente-gemert-bakel"),
    "GM0794": (PEEL, "gemeente-helmond"),
    "GM1659": (PEEL, "gemeente-laarbeek"),
    "GM0847": (PEEL, "gemeente-someren"),
    # buys work & income from Senzer, but WMO/jeugd with Nuenen, Son en Breugel, Waalre
    "GM1771": (PEEL, "sociaal-team-gmnsw"),
    "GM0453": (IJMOND, "gemeente-velsen"),
    "GM0375": (IJMOND, "gemeente-beverwijk"),
    "GM0396": (IJMOND, "gemeente-heemskerk"),
    "GM0450": (IJMOND, "gemeente-uitgeest"),
    "GM0361": (ALKMAAR, "gemeente-alkmaar"),
    "GM1980": (ALKMAAR, "gemeente-dijk-en-waard"),
    "GM0373": (ALKMAAR, "gemeente-bergen-nh"),
    "GM0399": (ALKMAAR, "gemeente-heiloo"),
    "GM0383": (ALKMAAR, "gemeente-castricum"),
    # Ferm Werk serves all four (the 2011 source gave Bodegraven-Reeuwijk its own department)
    "GM1901": (FERM_WERK, "gemeente-bodegraven-reeuwijk"),
    "GM0335": (FERM_WERK, "gemeente-montfoort"),
    "GM0589": (FERM_WERK, "gemeente-oudewater"),
    "GM0632": (FERM_WERK, "gemeente-woerden"),
}
# Municipalities that run a service locally (cafetariamodel configuration examples).
LOCAL_SERVICES = {
    ("GM0361", "schuldhulp"),
    ("GM0361", "minimaregelingen"),
    ("GM0383", "schuldhulp"),
}


@pytest.fixture(scope="module")
def regions():
    return load_regions()


def test_table_covers_every_configured_municipality(regions) -> None:
    assert {m.code for m in regions.municipalities} == set(EXPECTED)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_work_and_income_question_goes_to_the_work_and_income_organisation(regions, code):
    chosen = route(
        regions=regions,
        municipality_code=code,
        service="bijstand_intake",
        domains=["inkomen", "werk_opleiding"],
    )
    assert chosen.organisation == EXPECTED[code][0]
    assert chosen.priority == "normal"
    assert regions.municipality(code).name in chosen.reason


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_support_question_goes_to_the_local_team(regions, code):
    chosen = route(regions=regions, municipality_code=code, service="wmo")
    assert (chosen.level, chosen.organisation) == ("local", EXPECTED[code][1])


@pytest.mark.parametrize("code", sorted(EXPECTED))
@pytest.mark.parametrize("service", ["schuldhulp", "minimaregelingen"])
def test_money_services_follow_the_municipality_choice(regions, code, service):
    chosen = route(regions=regions, municipality_code=code, service=service)
    if (code, service) in LOCAL_SERVICES:
        assert chosen.level == "local" and chosen.organisation == EXPECTED[code][1]
    else:
        assert chosen.organisation == EXPECTED[code][0]


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_multi_problem_goes_as_one_case_to_the_local_team(regions, code):
    domains = ["werk_opleiding", "huisvesting", "schulden", "geestelijke_gezondheid"]
    chosen = route(
        regions=regions, municipality_code=code, service="bijstand_intake", domains=domains
    )
    assert (chosen.level, chosen.organisation) == ("local", EXPECTED[code][1])
    assert "meerdere leefgebieden" in chosen.reason and "regie" in chosen.reason


@pytest.mark.parametrize("code", sorted(EXPECTED))
@pytest.mark.parametrize(
    "crisis", ["suicidaliteit", "huiselijk_geweld", "acute_dakloosheid", "medisch_spoed"]
)
def test_crisis_is_urgent_and_local(regions, code, crisis):
    chosen = route(
        regions=regions, municipality_code=code, service="bijstand_intake", crisis_type=crisis
    )
    assert chosen.priority == "urgent"
    assert (chosen.level, chosen.organisation) == ("local", EXPECTED[code][1])
    assert "Crisissignaal" in chosen.reason


def test_threatened_eviction_makes_an_ordinary_case_urgent(regions) -> None:
    chosen = route(
        regions=regions, municipality_code="GM0794", service="schuldhulp", urgent_signal=True
    )
    assert chosen.priority == "urgent"
    assert chosen.organisation == PEEL
    assert "3 werkdagen" in chosen.reason or "Urgent" in chosen.reason


def test_no_service_known_goes_to_the_information_function(regions) -> None:
    chosen = route(regions=regions, municipality_code="GM0361", service=None)
    assert chosen.reason.startswith("Vraag over informatie en advies")


@pytest.mark.parametrize(
    ("domains", "multi"),
    [
        ([], False),
        (["inkomen"], False),
        (["inkomen", "werk_opleiding"], False),
        (["inkomen", "schulden"], True),
        (["werk_opleiding", "geestelijke_gezondheid"], True),
        (["adl", "sociaal_netwerk"], True),
    ],
)
def test_multi_problem_definition(domains, multi) -> None:
    assert is_multi_problem(domains) is multi
