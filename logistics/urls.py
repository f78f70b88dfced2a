from django.urls import path

from logistics import views

app_name = "logistics"

urlpatterns = [
    path("shipments/", views.shipments, name="shipments"),
    path("shipments/<str:public_id>/", views.shipment_detail, name="shipment-detail"),
    path("shipments/<str:public_id>/label.pdf", views.shipment_label, name="shipment-label"),
    path("shipments/<str:public_id>/packing-list.pdf", views.shipment_packing_list, name="shipment-packing-list"),
]
