from django.urls import path

from aftershow.fulfillment import scan, views

app_name = "fulfillment"

urlpatterns = [
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("rules/<int:pk>/move/<str:direction>/", views.rule_move, name="rule_move"),
    path("batches/", views.batch_list, name="batches"),
    path("process/", views.burst, name="burst"),
    path("batches/run/", views.batch_run, name="batch_run"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/retry/", views.batch_retry, name="batch_retry"),
    path("batches/<int:pk>/labels.pdf", views.batch_pdf, name="batch_pdf"),
    path("batches/<int:pk>/labels.zpl", views.batch_zpl, name="batch_zpl"),
    path("scan/", scan.scan_station, name="scan"),
    path("scan/submit/", scan.scan_submit, name="scan_submit"),
]
