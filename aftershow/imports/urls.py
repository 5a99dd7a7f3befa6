from django.urls import path

from aftershow.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_page, name="upload"),
    path("<int:pk>/", views.run_report, name="run"),
    path("tracking/", views.tracking_page, name="tracking"),
    path("tracking/upload.xlsx", views.tracking_download, name="tracking_download"),
]
