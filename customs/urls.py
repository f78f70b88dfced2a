from django.urls import path

from customs import views

app_name = "customs"

urlpatterns = [
    path("customs/", views.declarations, name="declarations"),
    path("customs/summaries/", views.summaries, name="summaries"),
    path("customs/summaries/<str:public_id>/", views.summary_detail, name="summary-detail"),
    path("customs/summaries/<str:public_id>/summary.pdf", views.summary_pdf, name="summary-pdf"),
    path("customs/refunds/", views.refund_claims, name="refund-claims"),
    path("customs/refunds/<str:public_id>/", views.refund_claim_detail, name="refund-claim-detail"),
    path("customs/<str:public_id>/", views.declaration_detail, name="declaration-detail"),
    path("customs/<str:public_id>/declaration.pdf", views.declaration_pdf, name="declaration-pdf"),
    path("customs/<str:public_id>/invoice.pdf", views.invoice_pdf, name="invoice-pdf"),
]
