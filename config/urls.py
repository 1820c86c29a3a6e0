from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Health, readiness and metrics for the operators (operations/urls.py).
    path("", include("operations.urls")),
    # The API (/api/v1) and open data (/oppna-data/, /datasets/dcat): api/urls.py. First: its
    # prefixes are its own, and an API call is then resolved without trying every other app's.
    path("", include("api.urls")),
    path("admin/", admin.site.urls),
    path("", include("access.urls")),
    # IVO staff login with a second factor (access/staff_urls.py).
    path("", include("access.staff_urls")),
    # Federated login through OpenID Connect (access/oidc_urls.py).
    path("", include("access.oidc_urls")),
    # The access log: extracts, search, export and the review report (access/log_urls.py).
    path("", include("access.log_urls")),
    # Full decisions on request: the utlämnande flow (documents/urls.py).
    path("", include("documents.urls")),
    # Linking case records to facilities, and the quality report (linking/urls.py).
    path("", include("linking.urls")),
    path("", include("alerts.urls")),
    # Statistics for everyone, and a municipality's own comparison (stats/urls.py).
    path("", include("stats.urls")),
    path("", include("portal.urls")),
]

# The site's own error pages (portal/errors.py); under /api/ they answer problem+json.
handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.permission_denied"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"
