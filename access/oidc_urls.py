"""URLs of federated login through OpenID Connect."""

urlpatterns: list = []
