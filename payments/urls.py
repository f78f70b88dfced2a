from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("money/", views.money, name="money"),
    path("money/accounts/<str:public_id>/", views.account_statement, name="statement"),
    path("money/payouts/<str:public_id>/", views.payout_detail, name="payout-detail"),
]
