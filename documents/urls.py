"""URLs of the utlämnande flow: the municipality's side under /beslut/, IVO's under /ivo/."""

from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    path("beslut/<int:pk>/begar/", views.request_form, name="request"),
    path("beslut/<int:pk>/hamta/", views.automatic_download, name="automatic_download"),
    path("beslut/begaranden/", views.my_requests, name="my_requests"),
    path("beslut/begaranden/<uuid:public_id>/", views.request_detail, name="request_detail"),
    path(
        "beslut/begaranden/<uuid:public_id>/hamta/",
        views.request_download,
        name="request_download",
    ),
    path("ivo/utlamnande/", views.queue, name="queue"),
    path("ivo/utlamnande/siffror/", views.numbers, name="numbers"),
    path("ivo/utlamnande/<uuid:public_id>/", views.handle, name="handle"),
    path("ivo/utlamnande/<uuid:public_id>/ta/", views.take, name="take"),
    path("ivo/utlamnande/<uuid:public_id>/lamna-ut/", views.release, name="release"),
    path("ivo/utlamnande/<uuid:public_id>/avsla/", views.refuse, name="refuse"),
    path("ivo/utlamnande/<uuid:public_id>/lamna-tillbaka/", views.hand_back, name="hand_back"),
    path("ivo/beslut/<int:pk>/dokument/", views.decision_documents, name="decision_documents"),
    path(
        "ivo/beslut/<int:pk>/dokument/fullstandigt/",
        views.full_download,
        name="full_download",
    ),
]
