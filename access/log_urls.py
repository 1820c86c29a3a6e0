"""URLs of the access log pages."""

urlpatterns: list = []
