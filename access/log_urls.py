"""URLs of the access log pages: the municipal extract, IVO's search and the review report."""

from django.urls import path

from access import log_views

app_name = "accesslog"

urlpatterns = [
    path("kommun/logg/", log_views.municipal_log, name="municipal"),
    path("ivo/logg/", log_views.log_search, name="search"),
    path("ivo/logg/granskning/", log_views.log_review, name="review"),
]
