from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("bevakningar/", views.watches, name="watches"),
    path(
        "bevakningar/verksamhet/<str:facility_id>/",
        views.watch_facility,
        name="watch_facility",
    ),
    path("bevakningar/huvudman/<str:public_id>/", views.watch_provider, name="watch_provider"),
    path("bevakningar/omrade/", views.watch_area, name="watch_area"),
    path("bevakningar/e-post/", views.mail_choice, name="mail_choice"),
    path("bevakningar/<uuid:public_id>/sluta/", views.unwatch, name="unwatch"),
    path("notiser/", views.notices, name="notices"),
    path("notiser/lasta/", views.mark_read, name="mark_read"),
    path("kommun/bevakningar/", views.municipal_watches, name="municipal"),
    path("kommun/bevakningar/overlat/", views.hand_over, name="hand_over"),
    path("kommun/bevakningar/ta-bort/", views.remove_all, name="remove_all"),
    path("ivo/bevakningar/", views.numbers, name="numbers"),
]
