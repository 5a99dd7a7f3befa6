from django.urls import path

from aftershow.commissions import views

app_name = "commissions"

urlpatterns = [
    path("", views.statement_list, name="statements"),
    path("sync/", views.ledger_sync, name="sync"),
    path("statements/make/", views.statements_make, name="make"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("statements/<int:pk>/approve/", views.statement_approve_view, name="approve"),
    path("statements/<int:pk>/hold/", views.statement_hold_view, name="hold"),
    path("statements/<int:pk>/statement.xlsx", views.statement_xlsx_view, name="xlsx"),
    path("statements/<int:pk>/statement.csv", views.statement_csv_view, name="csv"),
    path("s/<str:token>/", views.creator_page, name="creator_page"),
    path("s/<str:token>/statement.xlsx", views.creator_xlsx, name="creator_xlsx"),
    path("s/<str:token>/statement.csv", views.creator_csv, name="creator_csv"),
    path("payouts/", views.payout_list, name="payouts"),
    path("payouts/new/", views.payout_create, name="payout_create"),
    path("payouts/<int:pk>/", views.payout_detail, name="payout"),
    path("payouts/<int:pk>/send/", views.payout_send, name="payout_send"),
    path("payouts/<int:pk>/file.csv", views.payout_file, name="payout_file"),
    path("payouts/<int:pk>/paid/", views.payout_mark_paid, name="payout_paid"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("import/", views.import_page, name="import"),
]
