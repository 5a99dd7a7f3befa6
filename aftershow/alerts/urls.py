from django.urls import path

from aftershow.alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_inbox, name="inbox"),
    path("destinations/", views.destinations, name="destinations"),
    path("destinations/<int:pk>/", views.destination_edit, name="destination_edit"),
    path("destinations/<int:pk>/test/", views.destination_send_test, name="destination_test"),
    path("thresholds/", views.thresholds, name="thresholds"),
    path("thresholds/sku/", views.sku_threshold, name="sku_threshold"),
    path("local-inbox/", views.local_inbox_page, name="local_inbox"),
]
