from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.search, name="search"),
    path("verksamhet/<str:facility_id>/", views.facility_detail, name="facility"),
    path("huvudman/<str:public_id>/", views.provider_detail, name="provider"),
]
