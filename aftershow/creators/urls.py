from django.urls import path

from aftershow.creators import views

app_name = "creators"

urlpatterns = [
    path("", views.creator_list, name="list"),
    path("new/", views.creator_edit, name="create"),
    path("import/", views.creators_file_import, name="import_file"),
    path("import/tiktok/", views.creators_tiktok_import, name="import_tiktok"),
    path("<int:pk>/", views.creator_detail, name="detail"),
    path("<int:pk>/edit/", views.creator_edit, name="edit"),
    path("<int:pk>/samples/", views.sample_add, name="sample_add"),
    path("<int:pk>/collaborations/", views.collaboration_add, name="collaboration_add"),
    path("<int:pk>/sessions/", views.session_plan, name="session_plan"),
    path("collaborations/<int:pk>/rates/", views.rate_add, name="rate_add"),
    path("sessions/<int:pk>/", views.session_page, name="session"),
    path("sessions/<int:pk>/live/", views.session_stats, name="session_stats"),
    path("sessions/<int:pk>/featured/", views.session_feature, name="session_feature"),
    path("sessions/<int:pk>/viewers/", views.session_viewers, name="session_viewers"),
    path("sessions/<int:pk>/<str:action>/", views.session_transition, name="session_transition"),
]
