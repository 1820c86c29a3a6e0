"""URLs of IVO staff login with password and TOTP."""

from django.urls import path

from access import staff_views

app_name = "staff"

urlpatterns = [
    path("personal/logga-in/", staff_views.staff_login, name="login"),
]
