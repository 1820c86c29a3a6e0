from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    # The portal takes "/" in its own issue; until then the back office is the site.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
