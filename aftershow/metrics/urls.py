from django.urls import path

from aftershow.metrics import views

app_name = "metrics"

urlpatterns = [
    path("", views.leaderboard, name="leaderboard"),
    path("recompute/", views.recompute, name="recompute"),
    path("period/", views.period_detail, name="period"),
    path("thresholds/", views.thresholds, name="thresholds"),
    path("creators/<int:pk>/", views.creator_detail, name="creator"),
    path("creators/<int:pk>/inputs/", views.creator_inputs, name="creator_inputs"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
    path("orders/<int:pk>/profit/", views.order_profit, name="order_profit"),
]
