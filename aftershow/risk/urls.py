from django.urls import path

from aftershow.risk import views

app_name = "risk"

urlpatterns = [
    path("", views.review_queue, name="queue"),
    path("held/", views.held_orders, name="held"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/", views.rule_update, name="rule_update"),
    path("shops/<int:shop_pk>/release-policy/", views.policy_update, name="policy_update"),
    path("screen/", views.rescreen, name="rescreen"),
    path("confirm-clean/", views.confirm_clean, name="confirm_clean"),
    path("orders/<int:pk>/approve/", views.approve, name="approve"),
    path("orders/<int:pk>/hold/", views.hold, name="hold"),
    path("orders/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("orders/<int:pk>/address/", views.correct_address, name="address"),
]
