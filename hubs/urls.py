from django.contrib.auth import views as auth_views
from django.urls import path

from hubs import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/<str:prefix>/revoke/", views.revoke_api_key, name="api-key-revoke"),
    path("hs-codes/", views.hs_codes, name="hs-codes"),
]
