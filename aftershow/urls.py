from django.contrib import admin
from django.urls import include, path

from aftershow.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("accounts/", include("aftershow.accounts.urls")),
    path("webhooks/", include("aftershow.integrations.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("review/", include("aftershow.risk.urls")),
    path("imports/", include("aftershow.imports.urls")),
    path("fulfillment/", include("aftershow.fulfillment.urls")),
    path("commissions/", include("aftershow.commissions.urls")),
    path("stock-sync/", include("aftershow.stocksync.urls")),
    path("metrics/", include("aftershow.metrics.urls")),
    path("creators/", include("aftershow.creators.urls")),
    path("alerts/", include("aftershow.alerts.urls")),
    path("inventory/planning/", include("aftershow.inventory.planning_urls")),
    path("", include("aftershow.orders.urls")),
]
