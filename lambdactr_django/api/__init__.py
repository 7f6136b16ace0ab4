"""The JSON statistics: the statistics page's numbers for scripts and dashboards.

views answers api/statistics.json and api/openapi.json; access tells who asks
(a staff session or a bearer token); tokens makes, finds and revokes the tokens;
lambdactr_django.quota counts each token's requests. Like the admin, it only
reads, through lambdactr_django.stats.
"""
