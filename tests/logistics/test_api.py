"""Consolidation in the API: a seller reads its parcels, where each rides and its share; the hubs' officers read
departures and consignments with their manifests; nobody else sees them."""

from decimal import Decimal

from logistics.services import departure_close
from tests.logistics.conftest import receive
from tests.tenants import session_client


def test_sellers_read_their_parcels_and_officers_the_consignments(released_order, departure, hkg, hgh, mys):
    order = released_order()
    parcels = [receive(hkg, order) for _ in range(3)]
    flight = departure(units=1)
    departure_close(departure=flight)

    seller = session_client(hkg.seller_admin).get("/api/v1/parcels/").json()
    assert {row["id"] for row in seller["results"]} == {parcel.public_id for parcel in parcels}
    assert sum(Decimal(row["cost_share"]["amount"]) for row in seller["results"]) == Decimal("1200.00")
    assert session_client(hkg.seller_admin).get("/api/v1/consignments/").json()["results"] == []

    for officer in (hkg.officer, hgh.officer):  # both ends of the route
        consignments = session_client(officer).get("/api/v1/consignments/").json()["results"]
        assert len(consignments) == 1
        assert consignments[0]["departure"] == flight.public_id
        assert len(consignments[0]["parcels"]) == 3
        departures = session_client(officer).get("/api/v1/departures/").json()["results"]
        assert departures[0]["status"] == "closed"
        assert departures[0]["consignments"] == [consignments[0]["id"]]

    outsider = session_client(mys.officer)
    assert outsider.get("/api/v1/departures/").json()["results"] == []
    assert outsider.get(f"/api/v1/parcels/{parcels[0].public_id}/").status_code == 404
