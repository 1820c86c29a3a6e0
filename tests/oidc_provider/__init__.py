"""A real OpenID Connect provider for the federated-login tests (test_oidc_browser.py).

A minimal Django project around django-oauth-toolkit with OIDC on, run in a process of its own on
loopback: ``seed.py`` migrates its own SQLite database and adds the users and the client, then
``python -m django runserver`` serves it (DJANGO_SETTINGS_MODULE=tests.oidc_provider.settings).
Nothing here is collected as tests.
"""
