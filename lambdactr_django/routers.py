"""Keep the counter's hits on their own database alias (``LAMBDACTR_DATABASE``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from lambdactr_django.conf import conf

APP_LABEL = "lambdactr_django"
# The API's tokens point at users: they live where the users do, not with the hits.
WITH_THE_USERS = {"apitoken"}


def _ours(model: type[Model] | Model) -> bool:
    return model._meta.app_label == APP_LABEL and model._meta.model_name not in WITH_THE_USERS


class CounterRouter:
    """Send every query of lambdactr_django's models to ``LAMBDACTR_DATABASE``.

    Add ``"lambdactr_django.routers.CounterRouter"`` to ``DATABASE_ROUTERS``.
    While ``LAMBDACTR_DATABASE`` is None it has no opinion, so the project's
    other routers, or Django's default, decide.
    """

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return conf.DATABASE if _ours(model) else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        # Also the admin's deletes, lambdactr_prune and lambdactr_reclassify:
        # they need a role that can read and delete. The beacon's inserts pick
        # their alias themselves (lambdactr_django.store.database.beacon_alias).
        return conf.DATABASE if _ours(model) else None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        if conf.DATABASE is not None and _ours(obj1) and _ours(obj2):
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        if conf.DATABASE is None or app_label != APP_LABEL:
            return None
        if model_name in WITH_THE_USERS:
            return None if db != conf.DATABASE else False
        return db == conf.DATABASE
