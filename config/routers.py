"""Django's database cache (``CACHE_URL=db://<table>``) lives where the access log lives:
``settings.ACCESS_LOG_DATABASE``. On SQLite that is a file of its own, so the API's rate count,
written on every API request, never waits for the register's single write lock (an import holds
it for the whole of its write); on PostgreSQL it is the main database."""

from django.conf import settings

CACHE_APP_LABEL = "django_cache"  # Django's database cache's model (BaseDatabaseCache)


class CacheRouter:
    def db_for_read(self, model, **hints):
        if model._meta.app_label == CACHE_APP_LABEL:
            return settings.ACCESS_LOG_DATABASE
        return None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # createcachetable asks this for each database: the table is made in one only.
        if app_label == CACHE_APP_LABEL:
            return db == settings.ACCESS_LOG_DATABASE
        return None
