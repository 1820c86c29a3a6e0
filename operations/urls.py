from django.urls import path

app_name = "operations"

urlpatterns: list = [
    # /healthz, /readyz and the metrics (operations/views.py).
]
