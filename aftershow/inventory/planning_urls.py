from django.urls import path

from aftershow.inventory import planning_views

app_name = "planning"

urlpatterns = [
    path("", planning_views.planned_sessions, name="sessions"),
    path("sessions/<int:session_pk>/", planning_views.session_plan, name="session"),
    path("replenishment/", planning_views.replenishment, name="replenishment"),
]
