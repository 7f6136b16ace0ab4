from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from lambdactr_django.beacon.views import empty_stylesheet


# The benchmark's baseline: the beacon's decorators and response, minus capture
# and storage, so the difference between the two is what counting costs.
@csrf_exempt
@require_safe
@transaction.non_atomic_requests
def bench_empty_stylesheet(request: HttpRequest) -> HttpResponseBase:
    return empty_stylesheet()
