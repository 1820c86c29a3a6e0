"""URLs of IVO staff login with password and TOTP."""

urlpatterns: list = []
