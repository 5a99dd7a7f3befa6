"""The project's URLs plus the fulfillment pages and API, for tests until they are mounted in
``aftershow/urls.py`` and ``aftershow/api.py``."""

from django.urls import include, path
from ninja import NinjaAPI
from ninja.security import django_auth

from aftershow.fulfillment.api import router
from aftershow.urls import urlpatterns as project_urlpatterns

api = NinjaAPI(urls_namespace="fulfillment-test-api", auth=django_auth)
api.add_router("/fulfillment/", router)

urlpatterns = [
    path("test-api/", api.urls),
    path("fulfillment/", include("aftershow.fulfillment.urls")),
    *project_urlpatterns,
]
