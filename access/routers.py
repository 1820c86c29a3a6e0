"""The access log goes to ``settings.ACCESS_LOG_DATABASE``: on SQLite a database file of its own
(``accesslog``), so that logging a read never waits on the register's single write lock; on
PostgreSQL the main database unless ``ACCESS_LOG_DATABASE_URL`` names another."""

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
            return False  # the log's own database holds the log only
        return None
