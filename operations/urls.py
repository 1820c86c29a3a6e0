app_name = "operations"

# /healthz, /readyz and the metrics (operations/views.py).
urlpatterns: list = []
