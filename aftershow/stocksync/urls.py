from django.urls import path

from aftershow.stocksync import views

app_name = "stocksync"

urlpatterns = [
    path("", views.sync_page, name="page"),
    path("buffers/", views.buffer_save, name="buffer_save"),
    path("buffers/<int:pk>/delete/", views.buffer_delete, name="buffer_delete"),
]
