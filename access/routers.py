"""The access log's models go to ``settings.ACCESS_LOG_DATABASE``, for the ORM's reads and writes
(the review pages, the export, pruning) and for migrations: on SQLite the alias ``accesslog``, a
file of its own, so that logging a read never waits on the register's single write lock; on
PostgreSQL the register's database (``default``) unless ``ACCESS_LOG_DATABASE_URL`` names
another. A database of the log's own holds nothing of the register (only Django's cache table
beside the log: config/routers.py). New entries are written by access.log on that database's
connection directly, not through this router."""

from django.conf import settings

ACCESS_LOG_MODELS = {"accessevent", "accesslogchain"}


def _is_log(app_label: str, model_name: str | None) -> bool:
    return app_label == "access" and model_name in ACCESS_LOG_MODELS


class AccessLogRouter:
    def db_for_read(self, model, **hints):
        if _is_log(model._meta.app_label, model._meta.model_name):
            return settings.ACCESS_LOG_DATABASE
        return None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        log_database = settings.ACCESS_LOG_DATABASE
        if _is_log(app_label, model_name):
            return db == log_database
        if db != "default" and db == log_database:
            return False  # the log's own database holds nothing of the register
        return None
