"""The project's database routers (the access log's own is in access/routers.py).

``CacheRouter``: Django's database cache (``CACHE_URL=db://<table>``) lives where the access log
lives: ``settings.ACCESS_LOG_DATABASE``. On SQLite that is a file of its own, so the API's rate
count, written on every API request, never waits for the register's single write lock (an import
holds it for the whole of its write); on PostgreSQL it is the main database.

``ReplicaRouter``: reads spread over read replicas when ``DATABASE_REPLICA_URLS`` names any
(config/replicas.py says which reads, and why)."""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from config.replicas import current_replica, replica_readable

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


class ReplicaRouter:
    """Reads to the read replica the request chose (config/replicas.py says which reads, and
    why), everything else to the primary. Last in ``DATABASE_ROUTERS``: the access log and the
    cache are routed before it, always to the database that holds them."""

    def db_for_read(self, model, **hints):
        # The model first: choosing the request's replica connects to it (and asks how far
        # behind it is), which a request reading only sessions, keys or accounts must not cost.
        if replica_readable(model) and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            replica = current_replica()
            if replica is not None:
                return replica
        # Named, not left to Django: it would follow an object read from the replica (the
        # "instance" hint) and read, say, its account there.
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        # Never where the object was read from when that was a replica: a standby writes nothing.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replicas hold the primary's rows: an object read from one may be related to one
        # read from the other.
        pool = {DEFAULT_DB_ALIAS, *settings.DATABASE_REPLICAS}
        if obj1._state.db in pool and obj2._state.db in pool:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db in settings.DATABASE_REPLICAS:
            return False  # a standby takes its schema from the primary's WAL
        return None
