from django.urls import path

from stats import views

app_name = "stats"

urlpatterns = [
    path("statistik/", views.index, name="index"),
    # Before the topics: "kommun" is no topic's slug.
    path("statistik/kommun/", views.municipal, name="municipal"),
    path("statistik/<slug:topic>/", views.topic_page, name="topic"),
    path("statistik/<slug:topic>/<slug:figure>.csv", views.figure_csv, name="figure_csv"),
]
