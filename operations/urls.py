from django.urls import path

from operations import views

app_name = "operations"

# For the load balancer and the operators' Prometheus (docs/operations.md).
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
]
