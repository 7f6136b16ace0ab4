"""Which rollup rows answer: the statistics of all sites read one group of rows
a day (``scope`` "all"), one site's its own; both agree with the raw hits."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.test import override_settings
from django.utils import timezone

from lambdactr_django import stats
from lambdactr_django.models import HeaderHit, Rollup
from lambdactr_django.stats import rollups
from tests.stats import test_rollups as randomized

pytestmark = pytest.mark.django_db


def test_all_sites_read_every_sites_rows_and_one_site_its_own() -> None:
    rng = random.Random(200)
    HeaderHit.objects.bulk_create(randomized._random_hits(rng, 400))
    rollups.catch_up()
    every, one = stats.report_for(), stats.report_for(site="blog.example")
    assert every.views > one.views > 0
    # Without the sites' own rows, all sites' numbers stay as they were...
    Rollup.objects.filter(scope="site").exclude(site="blog.example").delete()
    assert stats.report_for() == every
    # ...and without every site's rows, one site's do; all sites' do not.
    Rollup.objects.filter(scope="all").delete()
    assert stats.report_for(site="blog.example") == one
    assert stats.report_for() != every


def _spread(rng: random.Random, sites: int) -> list[HeaderHit]:
    """Views of one day: every site has a favourite browser of its own, which
    its own group keeps and every site's group (ten values of people) folds,
    and one browser (and one page) common to all."""
    when = timezone.now() - dt.timedelta(days=2)
    hits = []
    for number in range(sites):
        site = f"site{number}.example"
        for _ in range(rng.randrange(3, 9)):
            hits.append(HeaderHit(created_at=when, site=site, path=f"/own/{number}/", browser=site))
        for _ in range(rng.randrange(9, 20)):
            hits.append(HeaderHit(created_at=when, site=site, path="/", browser="Common"))
    return hits


@pytest.mark.parametrize("seed", range(3))
def test_values_folded_over_every_site_but_kept_by_each_are_bounded(seed: int) -> None:
    rng = random.Random(210 + seed)
    with override_settings(LAMBDACTR_ROLLUP_KEEP=10):
        HeaderHit.objects.bulk_create(_spread(rng, 25))
        rollups.catch_up()
        # Each site keeps its own browser; every site's group folds sixteen of 26.
        assert not Rollup.objects.filter(scope="site", dimension="browser", folded__gt=0)
        folded = Rollup.objects.get(
            scope="all", dimension="browser", folded__gt=0, traffic=stats.Traffic.HUMAN
        )
        assert folded.folded == 16
        filters = {
            **dict.fromkeys(("site", "start", "end", "kind"), None),
            "verified": True,
            "traffic": stats.Traffic.HUMAN,
            "limit": 10,
        }
        rolled = stats.report_for(**filters)  # type: ignore[arg-type]
        assert rolled.unlisted["browsers"] == folded.largest_views
        assert rolled.browsers[0].label == "Common"
        assert rolled.browsers[0].short == 0
        randomized._assert_within(
            rolled, randomized._raw(filters), randomized._raw({**filters, "limit": 10**6})
        )
        # One site's statistics are exact: its group folded nothing.
        site = {**filters, "site": "site3.example"}
        assert stats.report_for(**site) == randomized._raw(site)  # type: ignore[arg-type]


def test_an_empty_list_still_says_what_was_folded() -> None:
    # Bots' groups keep one value (the default): the busiest device counts
    # only second views, which no list shows, and the other one is folded.
    when = timezone.now() - dt.timedelta(days=2)
    hits = [
        HeaderHit(created_at=when, is_bot=True, bot_reason="crawler", device=device, kind=kind)
        for device, kind, count in (("bot", "second", 3), ("tablet", "view", 1))
        for _ in range(count)
    ]
    HeaderHit.objects.bulk_create(hits)
    rollups.catch_up()
    for site in (None, ""):
        rolled = stats.report_for(site=site, traffic=stats.Traffic.BOT)
        assert rolled.devices == []
        assert rolled.unlisted["devices"] == 1


def test_over_every_site_people_s_paths_keep_more_values() -> None:
    # Twelve sites, two pages each: 24 pages, within the 30 that every site's
    # groups keep of paths (LAMBDACTR_ROLLUP_KEEP_EVERY_SITE), while their 13
    # browsers are more than the 10 kept of the rest.
    HeaderHit.objects.bulk_create(_spread(random.Random(220), 12))
    rollups.catch_up()
    every = Rollup.objects.filter(scope="all", traffic=stats.Traffic.HUMAN, folded__gt=0)
    assert not every.filter(dimension="page").exists()
    assert every.get(dimension="browser").folded == 3
    filters = {"site": None, "start": None, "end": None, "kind": None, "verified": True}
    raw = randomized._raw({**filters, "traffic": stats.Traffic.HUMAN, "limit": 10})
    assert stats.report_for(**filters).pages == raw.pages  # type: ignore[arg-type]
    # Keeping 20, four are folded (and the pages of one site are still its own).
    with override_settings(LAMBDACTR_ROLLUP_KEEP_EVERY_SITE=20):
        rollups.roll(randomized._sealed())
    assert every.get(dimension="page").folded == 4
    assert not Rollup.objects.filter(scope="site", dimension="page", folded__gt=0).exists()
