"""gunicorn settings for the example project: ``gunicorn -c python:example_project.gunicorn_conf``.

Only a hook: each worker opens the beacon's storage (its database connection,
or its journal) once it has loaded the application, before its first request,
so that the first hit does not wait for it (docs/fast-path.md, "Cold start").
"""

from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    # In the worker, with or without --preload; after the application is loaded.
    from lambdactr_django.beacon import warmup

    # gthread workers serve requests in threads of their own, with their own
    # database connections: warm the code and the server, keep no connection.
    warmup.warm_up_worker(keep_connection=worker.cfg.threads <= 1)
