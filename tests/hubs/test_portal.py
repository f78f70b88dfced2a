import re

from django.core import mail

from hubs.models import ApiKey, AuditEvent, Membership, Role
from tests.factories import PASSWORD
from tests.tenants import issue_key, key_client


def test_login_lands_on_home_with_the_actors_company_and_hub(client, hgh):
    response = client.post("/login/", {"username": hgh.seller_admin.user.username, "password": PASSWORD}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/"
    assert hgh.company.legal_name in page
    assert "Seller admin" in page
    assert "HGH" in page


def test_a_bad_login_is_a_form_error(client, hgh):
    response = client.post("/login/", {"username": hgh.seller_admin.user.username, "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_pages_need_a_login(client, db):
    for url in ["/", "/api-keys/", "/hs-codes/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_an_officer_home_shows_its_hub(client, mys):
    client.force_login(mys.officer.user)
    page = client.get("/").content.decode()
    assert mys.hub.name in page
    assert "Hub officer" in page


def test_logout_and_password_change(client, hgh):
    client.force_login(hgh.seller_admin.user)
    new = "another-long-password-77"
    response = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}, follow=True
    )
    assert "Password changed" in response.content.decode()
    client.post("/logout/")
    assert client.get("/").status_code == 302
    client.post("/login/", {"username": hgh.seller_admin.user.username, "password": new})
    assert client.get("/").status_code == 200


def test_a_mismatched_new_password_is_a_form_error(client, hgh):
    client.force_login(hgh.seller_admin.user)
    response = client.post("/password/", {"old_password": PASSWORD, "new_password1": "a" * 12, "new_password2": "b"})
    assert "didn’t match" in response.content.decode()


def test_a_seller_admin_issues_a_key_shown_once_after_a_redirect(client, hgh):
    client.force_login(hgh.seller_admin.user)

    # when the admin issues a key, then the POST redirects (a reload issues nothing again)
    response = client.post("/api-keys/", {"membership": hgh.company_integrator.pk, "name": "Shop ERP"})
    assert (response.status_code, response["Location"]) == (302, "/api-keys/")
    api_key = ApiKey.objects.get(name="Shop ERP")

    # and the page it leads to shows the key, once, and keeps no copy of it
    page = client.get(response["Location"])
    key = page.content.decode().split('id="issued-key">')[1].split("<")[0]
    assert api_key.is_valid(key)
    assert "no-store" in page["Cache-Control"]
    again = client.get("/api-keys/").content.decode()
    assert "Shop ERP" in again
    assert key not in again
    assert ApiKey.objects.count() == 1


def test_issuing_a_key_needs_a_name(client, hgh):
    client.force_login(hgh.seller_admin.user)
    response = client.post("/api-keys/", {"membership": hgh.company_integrator.pk, "name": ""})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_seller_cannot_issue_for_another_companys_integrator(client, hgh, mys):
    client.force_login(mys.seller_admin.user)
    response = client.post("/api-keys/", {"membership": hgh.company_integrator.pk, "name": "x"})
    assert "Select a valid choice" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_seller_staff_manage_no_keys(client, hgh):
    issue_key(hgh.seller_admin, hgh.company_integrator, name="Shop ERP")
    client.force_login(hgh.seller_staff.user)
    page = client.get("/api-keys/").content.decode()
    assert "Shop ERP" not in page
    assert "are issued by a company's seller admin" in page


def test_revoke_from_the_portal_asks_to_confirm(client, hgh):
    api_key, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    client.force_login(hgh.seller_admin.user)

    # the keys page links to a confirmation, which revokes nothing
    assert f'href="/api-keys/{api_key.prefix}/revoke/"' in client.get("/api-keys/").content.decode()
    confirm = client.get(f"/api-keys/{api_key.prefix}/revoke/").content.decode()
    assert "Are you sure?" in confirm
    assert not ApiKey.objects.get(pk=api_key.pk).revoked

    # confirming revokes it, with the reason on its history
    response = client.post(f"/api-keys/{api_key.prefix}/revoke/", {"reason": "ERP replaced"}, follow=True)
    assert "is revoked" in response.content.decode()
    assert ApiKey.objects.get(pk=api_key.pk).revoked
    assert AuditEvent.objects.get(verb="api_key.revoked").reason == "ERP replaced"
    assert "already revoked" in client.get(f"/api-keys/{api_key.prefix}/revoke/").content.decode()


def test_another_companys_key_is_404_on_revoke(client, hgh, mys):
    api_key, _ = issue_key(hgh.seller_admin, hgh.company_integrator)
    client.force_login(mys.seller_admin.user)
    assert client.get(f"/api-keys/{api_key.prefix}/revoke/").status_code == 404
    assert client.post(f"/api-keys/{api_key.prefix}/revoke/").status_code == 404
    assert not ApiKey.objects.get(pk=api_key.pk).revoked


def test_hs_search_page_by_words_and_code_check(client, hgh):
    client.force_login(hgh.seller_staff.user)
    page = client.get("/hs-codes/", {"q": "green tea"}).content.decode()
    assert "090210" in page

    page = client.get("/hs-codes/", {"q": "3304.99.00"}).content.decode()
    assert "33049900 is a valid goods code under subheading 330499" in page

    page = client.get("/hs-codes/", {"q": "339999"}).content.decode()
    assert "339999 is not a subheading of the Harmonized System 2022" in page
    assert "No HS code matches" in page


# --- a seller admin's integrators and colleagues --------------------------------------------------------


def test_a_seller_admin_creates_its_integrator_and_issues_it_a_key_that_acts_for_the_company(client, hgh, mys):
    # given a seller admin whose company has no integrator yet
    Membership.objects.filter(pk=hgh.company_integrator.pk).delete()
    client.force_login(hgh.seller_admin.user)
    page = client.get("/api-keys/").content.decode()
    assert "Create an integrator" in page
    assert "Issue a key" not in page

    # when it creates one, then the integrator belongs to its company and never logs in
    response = client.post("/api-keys/integrators/", {"username": "westlake-erp"}, follow=True)
    integrator = Membership.objects.get(user__username="westlake-erp")
    assert (integrator.role, integrator.company) == (Role.INTEGRATOR, hgh.company)
    assert not integrator.user.has_usable_password()
    assert f"westlake-erp is an integrator of {hgh.company.legal_name}" in response.content.decode()
    assert AuditEvent.objects.get(verb="membership.integrator_created").company == hgh.company

    # when it issues the integrator a key, then the key acts for the company, and only for it
    response = client.post("/api-keys/", {"membership": integrator.pk, "name": "ERP"}, follow=True)
    key = response.content.decode().split('id="issued-key">')[1].split("<")[0]
    companies = key_client(key).get("/api/v1/companies/").json()
    assert [company["legal_name"] for company in companies["results"]] == [hgh.company.legal_name]


def test_an_integrator_name_must_be_free_and_only_a_seller_admin_creates_one(client, hgh):
    client.force_login(hgh.seller_admin.user)
    response = client.post("/api-keys/integrators/", {"username": hgh.seller_staff.user.username})
    assert response.context["integrator_form"].errors == {
        "username": [f"The username “{hgh.seller_staff.user.username}” is taken: choose another."]
    }
    response = client.post("/api-keys/integrators/", {"username": "has spaces"})
    assert "letters, digits and @ . + - _" in response.context["integrator_form"].errors["username"][0]

    client.force_login(hgh.seller_staff.user)
    assert "Create an integrator" not in client.get("/api-keys/").content.decode()
    assert client.post("/api-keys/integrators/", {"username": "staff-erp"}).status_code == 403
    assert not Membership.objects.filter(user__username__in=["staff-erp", "has spaces"]).exists()


def test_a_seller_admin_invites_a_colleague_who_sets_a_password_once(
    client, hgh, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(hgh.seller_admin.user)

    # when the admin invites a colleague, then the POST redirects to the team page, which shows the link once
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/team/", {"username": "li.wei", "email": "li.wei@example.com", "role": "seller_staff"})
    assert (response.status_code, response["Location"]) == (302, "/team/")
    page = client.get("/team/").content.decode()
    link = re.search(r'id="invitation-link">([^<]+)<', page).group(1)
    assert link.startswith("http://testserver/reset/")
    assert 'id="invitation-link"' not in client.get("/team/").content.decode()

    # and the colleague is a member of the company, without a password yet, and is mailed the same link
    member = Membership.objects.get(user__username="li.wei")
    assert (member.role, member.company) == (Role.SELLER_STAFF, hgh.company)
    assert not member.user.has_usable_password()
    assert "li.wei" in client.get("/team/").content.decode()
    (message,) = mail.outbox
    assert message.to == ["li.wei@example.com"]
    assert link in message.body
    assert AuditEvent.objects.get(verb="membership.invited").sentence == (
        f"li.wei invited as seller staff by {hgh.seller_admin.user}"
    )

    # when the colleague follows the link and chooses a password, then they log in with it
    client.logout()
    form = client.get(link, follow=True)
    assert "Choose your password" in form.content.decode()
    password = "a-new-colleagues-password-9"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}, follow=True)
    assert "Password set" in done.content.decode()
    client.post("/login/", {"username": "li.wei", "password": password})
    assert hgh.company.legal_name in client.get("/").content.decode()

    # and the link no longer works
    client.logout()
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_only_a_seller_admin_invites_and_a_taken_username_is_refused(client, hgh, mys):
    client.force_login(hgh.seller_admin.user)
    response = client.post("/team/", {"username": mys.seller_admin.user.username.upper(), "role": "seller_admin"})
    assert "is taken: choose another" in response.context["form"].errors["username"][0]

    client.force_login(hgh.seller_staff.user)
    page = client.get("/team/").content.decode()
    assert "Invite a colleague" not in page
    assert hgh.seller_admin.user.username in page
    assert mys.seller_admin.user.username not in page
    assert client.post("/team/", {"username": "intruder", "role": "seller_admin"}).status_code == 403
    assert not Membership.objects.filter(user__username="intruder").exists()


def test_the_home_page_says_what_an_unverified_company_waits_for(client, hgh):
    client.force_login(hgh.seller_staff.user)
    page = client.get("/").content.decode()
    assert "Awaiting verification by HGH" in page
    assert "You can list goods and quote them now. Placing orders waits until a supervisor of" in page
