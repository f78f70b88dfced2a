from django.contrib.auth import views as auth_views
from django.urls import path

from hubs import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # An invited colleague's link to choose a password (Django's password-reset token, void once used).
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(post_reset_login=False),
        name="password_reset_confirm",
    ),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("team/", views.team, name="team"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/integrators/", views.integrator_new, name="integrator-new"),
    path("api-keys/<str:prefix>/revoke/", views.revoke_api_key, name="api-key-revoke"),
    path("hs-codes/", views.hs_codes, name="hs-codes"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<str:public_id>/", views.webhook_endpoint, name="webhook-endpoint"),
    path("webhooks/<str:public_id>/test/", views.webhook_endpoint_send_test, name="webhook-endpoint-send-test"),
    path(
        "webhooks/deliveries/<str:public_id>/retry/",
        views.webhook_delivery_send_again,
        name="webhook-delivery-send-again",
    ),
    path(
        "webhooks/<str:public_id>/rotate-secret/",
        views.webhook_endpoint_rotate_secret_page,
        name="webhook-endpoint-rotate-secret-confirm",
    ),
    path(
        "webhooks/<str:public_id>/deactivate/",
        views.webhook_endpoint_deactivate_page,
        name="webhook-endpoint-deactivate-confirm",
    ),
]
