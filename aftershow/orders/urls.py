from django.urls import path

from aftershow.orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("orders/rows/", views.order_list_rows, name="rows"),
    path("orders/<int:pk>/", views.order_detail, name="detail"),
]
