import io

import pytest
from django.core.management import call_command

from customs.models import Direction, Lane, RiskRule, RiskRuleKind
from hubs.models import Hub
from tests.logistics.conftest import reference_units  # noqa: F401 (fixture)

EVERYTHING = "0 1 2 3 4 5 6 7 8 9"  # HS prefixes that every code starts with


@pytest.fixture
def demo(hs_nomenclature, reference_units, settings):  # noqa: F811 (fixture)
    """The demo data, committed (the journey's workers read it), with selectivity that walks every lane: imports
    into Malaysia go red, into Hangzhou yellow, the rest green."""
    settings.DEBUG = True  # the seed's demo logins are for a development machine only
    call_command("seed_demo", stdout=io.StringIO())
    for code, lane in (("MYS", Lane.RED), ("HGH", Lane.YELLOW)):
        RiskRule.objects.create(
            hub=Hub.objects.get(code=code),
            kind=RiskRuleKind.RESTRICTED_GOODS,
            direction=Direction.IMPORT,
            hs_prefixes=EVERYTHING,
            lane=lane,
            note="Every import is checked",
        )
    for hub in Hub.objects.exclude(code__in=["MYS", "HGH"]):
        RiskRule.objects.create(hub=hub, kind=RiskRuleKind.RANDOM, lane=Lane.YELLOW, threshold=0, note="None")
