from django.urls import path

from access import views

app_name = "access"

urlpatterns = [
    path("logga-in/", views.login_start, name="login"),
    path("logga-in/skickat/", views.login_sent, name="login_sent"),
    path("logga-in/lank/<str:link>/", views.login_link, name="login_link"),
    path("logga-ut/", views.logout_view, name="logout"),
    path("sprak/", views.language_choice, name="language"),
    path("kommun/frilistning/", views.allowlist, name="allowlist"),
    path(
        "kommun/frilistning/<uuid:public_id>/fornya/", views.allowlist_renew, name="allowlist_renew"
    ),
    path(
        "kommun/frilistning/<uuid:public_id>/aterkalla/",
        views.allowlist_revoke,
        name="allowlist_revoke",
    ),
    path("ivo/kommuner/", views.municipalities, name="municipalities"),
    path(
        "ivo/kommuner/<str:code>/inloggning/",
        views.municipality_login_method,
        name="municipality_login_method",
    ),
]
