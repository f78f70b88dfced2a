from django.urls import path

from trade import views

app_name = "trade"

urlpatterns = [
    path("listings/", views.listing_list, name="listings"),
    path("listings/new/", views.listing_new, name="listing-new"),
    path("listings/<str:public_id>/", views.listing_detail, name="listing-detail"),
    path("listings/<str:public_id>/edit/", views.listing_edit, name="listing-edit"),
    path("listings/<str:public_id>/archive/", views.listing_archive_view, name="listing-archive"),
    path("listings/<str:public_id>/restock/", views.listing_restock_view, name="listing-restock"),
    path("quotes/", views.quote_list, name="quotes"),
    path("quotes/new/", views.quote_new, name="quote-new"),
    path("quotes/<str:public_id>/", views.quote_detail, name="quote-detail"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<str:public_id>/", views.order_detail, name="order-detail"),
    path("orders/<str:public_id>/cancel/", views.order_cancel_view, name="order-cancel"),
]
