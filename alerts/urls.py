from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("bevakningar/", views.watches, name="watches"),
]
