"""Officers decide the declarations of their own hub from the console's queue (the most severe lane first, then
the oldest), with a reason; a hold names the documents wanted, and the seller answers it with documents checked
for type and size and kept with their checksum. Officers edit their hub's risk rules; supervisors see the queue's
age and throughput."""

import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from customs.models import Declaration, DeclarationStatus, Direction, Lane, RiskRule, RiskRuleKind
from customs.services import declaration_answer, declaration_decide, declaration_reroute
from hubs.kernel.errors import DomainError
from hubs.models import AuditEvent
from hubs.scoping import actor_for
from tests.customs.conftest import declaration, rule
from tests.tenants import session_client
from trade.models import OrderStatus

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def pdf(name="invoice.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def yellow(journey, hkg):
    """An order paid, its export declaration sent to the document check by HKG's random rule."""
    rule(hkg, RiskRuleKind.RANDOM, threshold=Decimal(1))
    order = journey.paid()
    return declaration(order, Direction.EXPORT)


def decide(tenant, held, decision, reason="Checked.", **extra):
    return declaration_decide(
        actor=actor_for(tenant.officer.user), declaration=held, decision=decision, reason=reason, **extra
    )


def test_an_officer_holds_the_seller_answers_and_the_officer_releases(yellow, hkg, committed):
    assert (yellow.lane, yellow.status) == (Lane.YELLOW, DeclarationStatus.FILED)
    held = decide(hkg, yellow, "hold", reason="Invoice?", documents="The commercial invoice")
    assert held.status == DeclarationStatus.HELD
    assert held.order.status == OrderStatus.EXPORT_HELD

    answered = declaration_answer(actor=actor_for(hkg.seller_admin.user), declaration=held, files=[pdf()], note="Here")
    assert answered.status == DeclarationStatus.FILED
    document = answered.documents.get()
    assert (document.sha256, document.content_type, document.size) == (
        hashlib.sha256(PDF).hexdigest(),
        "application/pdf",
        len(PDF),
    )

    with committed():
        released = decide(hkg, answered, "release", reason="Invoice matches.")
    released.order.refresh_from_db()
    assert released.status == DeclarationStatus.RELEASED
    assert released.order.status == OrderStatus.EXPORT_RELEASED
    verbs = list(AuditEvent.objects.filter(order_ref=released.order.public_id).values_list("verb", flat=True))
    assert {"declaration.held", "declaration.document", "declaration.filed", "declaration.released"} <= set(verbs)


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (lambda: pdf("invoice.pdf", b"just text, named .pdf"), "unsupported_document"),
        (lambda: pdf("big.pdf", PDF + b"0" * 2048), "too_large"),
    ],
    ids=["renamed text", "too large"],
)
def test_a_document_of_the_wrong_type_or_size_is_refused_and_nothing_changes(yellow, hkg, settings, upload, code):
    settings.CUSTOMS_DOCUMENT_MAX_BYTES = 1024
    held = decide(hkg, yellow, "hold", documents="Invoice")
    with pytest.raises(DomainError) as refused:
        declaration_answer(actor=actor_for(hkg.seller_admin.user), declaration=held, files=[pdf(), upload()])
    assert refused.value.code == code
    held.refresh_from_db()
    assert held.status == DeclarationStatus.HELD
    assert not held.documents.exists()


def test_officers_of_another_hub_and_sellers_do_not_decide(yellow, hgh, hkg):
    with pytest.raises(PermissionDenied):
        decide(hgh, yellow, "release")
    with pytest.raises(PermissionDenied):
        declaration_decide(
            actor=actor_for(hkg.seller_admin.user), declaration=yellow, decision="release", reason="Mine"
        )
    with pytest.raises(PermissionDenied):
        declaration_answer(actor=actor_for(hgh.seller_admin.user), declaration=yellow, files=[pdf()])
    yellow.refresh_from_db()
    assert yellow.status == DeclarationStatus.FILED


@pytest.mark.parametrize(
    ("decision", "extra", "code"),
    [("hold", {}, "required"), ("release", {"reason": " "}, "required"), ("approve", {}, "invalid")],
)
def test_a_decision_without_its_reason_or_documents_is_refused(yellow, hkg, decision, extra, code):
    with pytest.raises(DomainError) as refused:
        decide(hkg, yellow, decision, **extra)
    assert refused.value.code == code


def test_an_officer_reroutes_with_a_reason_and_inspection_then_rejection(yellow, hkg, committed):
    rerouted = declaration_reroute(actor=actor_for(hkg.officer.user), declaration=yellow, lane="red", reason="Tip-off")
    assert rerouted.lane == Lane.RED
    event = AuditEvent.objects.get(verb="declaration.rerouted")
    assert (event.reason, event.data) == ("Tip-off", {"from": "yellow", "to": "red"})
    inspected = decide(hkg, rerouted, "inspect", reason="Open the box")
    assert inspected.order.status == OrderStatus.EXPORT_HELD
    with committed():
        rejected = decide(hkg, inspected, "reject", reason="Counterfeit")
    rejected.order.refresh_from_db()
    assert rejected.order.status == OrderStatus.REFUNDED  # payments refunds a rejected order
    with pytest.raises(DomainError):
        decide(hkg, rejected, "release")


def test_the_console_queue_puts_red_first_then_the_oldest_and_decides(journey, hkg, hgh):
    rule(hkg, RiskRuleKind.RANDOM, threshold=Decimal(1))
    first, second = journey.paid(), journey.paid()
    red = declaration(second, Direction.EXPORT)
    Declaration.objects.filter(pk=red.pk).update(lane=Lane.RED)
    officer = session_client(hkg.officer)
    page = officer.get("/admin/customs/declaration/")
    assert [row.public_id for row in page.context["cl"].result_list] == [
        red.public_id,
        declaration(first, "export").public_id,
    ]
    assert session_client(hgh.officer).get("/admin/customs/declaration/").context["cl"].result_count == 0

    url = f"/admin/customs/declaration/{red.pk}/decide/"
    assert "Decide" in officer.get(url).content.decode()
    refused = officer.post(url, {"decision": "hold", "reason": "Papers", "documents": ""})
    assert refused.status_code == 400
    done = officer.post(url, {"decision": "hold", "reason": "Papers", "documents": "Invoice"})
    assert done.status_code == 302
    rerouted = officer.post(url, {"reroute-lane": "yellow", "reroute-reason": "Papers will do"})
    assert rerouted.status_code == 302
    red.refresh_from_db()
    assert (red.status, red.lane) == (DeclarationStatus.HELD, Lane.YELLOW)
    assert session_client(hgh.officer).post(url, {"decision": "release", "reason": "x"}).status_code == 404


def test_officers_edit_their_hubs_risk_rules_with_an_audit_event(hkg, hgh):
    officer = session_client(hkg.officer)
    form = {
        "hub": hkg.hub.pk,
        "kind": "restricted_goods",
        "direction": "",
        "threshold": "0",
        "hs_prefixes": "9303",
        "lane": "red",
        "active": "on",
        "note": "Firearms",
    }
    assert officer.post("/admin/customs/riskrule/add/", form).status_code == 302
    created = RiskRule.objects.get()
    assert AuditEvent.objects.get(verb="risk_rule.changed").data["new"] is True
    foreign = session_client(hgh.officer).post("/admin/customs/riskrule/add/", form)
    assert foreign.status_code == 200
    assert "Select a valid choice" in foreign.content.decode()
    assert session_client(hgh.officer).get(f"/admin/customs/riskrule/{created.pk}/change/").status_code == 404


def test_supervisors_see_queue_age_and_throughput_per_lane(yellow, hkg):
    page = session_client(hkg.supervisor).get("/admin/customs/declaration/queue/")
    assert page.status_code == 200
    lanes = {lane["lane"]: lane for lane in page.context["lanes"]}
    assert lanes["yellow"]["waiting"] == 1
    assert sum(count for _, count in lanes["green"]["days"]) == 0
    assert session_client(hkg.officer).get("/admin/customs/declaration/queue/").status_code == 403


def test_the_seller_answers_a_hold_in_the_portal_and_through_the_api(yellow, hkg, mys):
    held = decide(hkg, yellow, "hold", documents="The commercial invoice")
    seller = session_client(hkg.seller_admin)
    page = seller.get(f"/customs/{held.public_id}/").content.decode()
    assert "The commercial invoice" in page
    assert "Send the documents" in page
    assert "random" not in page  # the risk rules stay the officers'
    refused = seller.post(f"/customs/{held.public_id}/", {"files": pdf("x.pdf", b"MZ not a pdf")})
    assert refused.status_code == 400
    assert "is not a PDF, PNG or JPEG" in refused.content.decode()
    assert seller.post(f"/customs/{held.public_id}/", {"files": [pdf(), pdf("scan.pdf")]}).status_code == 302
    held.refresh_from_db()
    assert (held.status, held.documents.count()) == (DeclarationStatus.FILED, 2)

    again = decide(hkg, held, "hold", documents="The packing list")
    answer = seller.post(f"/api/v1/declarations/{again.public_id}/answer/", {"files": [pdf("list.pdf")]})
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "filed"
    assert len(answer.json()["documents"]) == 3
    assert "risk" not in answer.json()
    outsider = session_client(mys.seller_admin).post(
        f"/api/v1/declarations/{again.public_id}/answer/", {"files": [pdf()]}
    )
    assert outsider.status_code == 404


def test_an_answer_sent_twice_with_its_idempotency_key_is_kept_once(yellow, hkg):
    held = decide(hkg, yellow, "hold", documents="The commercial invoice")
    seller = session_client(hkg.seller_admin)
    url = f"/api/v1/declarations/{held.public_id}/answer/"
    first = seller.post(url, {"files": [pdf()]}, headers={"Idempotency-Key": "answer-1"})
    again = seller.post(url, {"files": [pdf()]}, headers={"Idempotency-Key": "answer-1"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    other = seller.post(url, {"files": [pdf("other.pdf")]}, headers={"Idempotency-Key": "answer-1"})
    assert other.status_code == 422  # the key names another request
    assert held.documents.count() == 1


def test_an_officer_downloads_the_sellers_document_with_its_checksum_and_no_other_hub_does(yellow, hkg, hgh):
    held = decide(hkg, yellow, "hold", documents="Invoice")
    declaration_answer(actor=actor_for(hkg.seller_admin.user), declaration=held, files=[pdf()])
    document = held.documents.get()
    url = f"/admin/customs/declaration/{held.pk}/documents/{document.pk}/"
    download = session_client(hkg.officer).get(url)
    assert download.status_code == 200
    assert download.content == PDF
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Repr-Digest"].startswith("sha-256=:")
    assert session_client(hgh.officer).get(url).status_code == 404
