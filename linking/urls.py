"""IVO's pages for linking case records (/ivo/koppling/) and the quality report (/ivo/kvalitet/)."""

from django.urls import path

from linking import views

app_name = "linking"

urlpatterns = [
    path("ivo/koppling/", views.queue, name="queue"),
    path("ivo/koppling/verksamheter/", views.facility_suggestions, name="facility_suggestions"),
    path("ivo/koppling/<uuid:case_id>/", views.case_detail, name="case"),
    path("ivo/koppling/<uuid:case_id>/koppla/", views.case_link, name="link"),
    path(
        "ivo/koppling/<uuid:case_id>/ny-verksamhet/", views.case_new_facility, name="new_facility"
    ),
    path("ivo/koppling/<uuid:case_id>/angra/", views.case_undo, name="undo"),
    path("ivo/kvalitet/", views.quality_report, name="quality"),
]
