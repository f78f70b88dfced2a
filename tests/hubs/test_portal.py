from hubs.models import ApiKey
from tests.factories import PASSWORD
from tests.tenants import issue_key


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
    assert client.login(username=hgh.seller_admin.user.username, password=new)


def test_a_mismatched_new_password_is_a_form_error(client, hgh):
    client.force_login(hgh.seller_admin.user)
    response = client.post("/password/", {"old_password": PASSWORD, "new_password1": "a" * 12, "new_password2": "b"})
    assert "didn’t match" in response.content.decode()


def test_a_seller_admin_issues_a_key_shown_once(client, hgh):
    client.force_login(hgh.seller_admin.user)
    response = client.post("/api-keys/", {"membership": hgh.company_integrator.pk, "name": "Shop ERP"})
    assert response.status_code == 201
    api_key = ApiKey.objects.get(name="Shop ERP")
    page = response.content.decode()
    key = page.split('id="issued-key">')[1].split("<")[0]
    assert api_key.is_valid(key)

    listing = client.get("/api-keys/").content.decode()
    assert "Shop ERP" in listing
    assert key not in listing


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


def test_revoke_from_the_portal(client, hgh):
    api_key, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    client.force_login(hgh.seller_admin.user)
    response = client.post(f"/api-keys/{api_key.prefix}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    assert ApiKey.objects.get(pk=api_key.pk).revoked


def test_another_companys_key_is_404_on_revoke(client, hgh, mys):
    api_key, _ = issue_key(hgh.seller_admin, hgh.company_integrator)
    client.force_login(mys.seller_admin.user)
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
