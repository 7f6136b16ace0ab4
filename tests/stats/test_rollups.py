"""Every answer the rollups give equals the answer from the raw hits.

Random hits over many days, sites, labels and time zones; every field of the
report, for random filters and date ranges, compared with ``stats.report`` over
the raw rows; again after pruning, relabelling, replaying old hits, deleting in
the admin and changing the time zone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count, Q
from django.test import override_settings
from django.utils import timezone

from lambdactr_django import days, stats
from lambdactr_django.models import HeaderHit, RolledDay, Rollup
from lambdactr_django.stats import merge, rollups
from lambdactr_django.store import buffer, replay, rows, spool
from tests.hits import CHROME, GOOGLEBOT, IPHONE

pytestmark = pytest.mark.django_db

SITES = ["blog.example", "shop.example", ""]
PATHS = ["/", "/a/", "/b/", "/posts/1/", "/posts/2/", "/über/"]
HOSTS = ["", "", "news.example", "search.example", "blog.example"]
BROWSERS = ["Chrome", "Firefox", "Mobile Safari", "Googlebot", ""]
SYSTEMS = ["Windows", "iOS", "Ubuntu", ""]
DEVICES = ["desktop", "mobile", "tablet", "bot", "other"]
REASONS = ["", "crawler", "no-lang", "fetch-dest", "no-ua"]
CHANNELS = ["", "", "search", "social", "email", "referral", "campaign"]
TAGS = ["", "", "", "newsletter", "launch", "spring sale"]
LANGUAGES = ["", "en-US", "en-GB", "de", "pt-BR", "es-419"]
COUNTRIES = ["", "US", "DE", "GB", "IN"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
SPAN_DAYS = 12


def _random_hits(rng: random.Random, count: int) -> list[HeaderHit]:
    now = timezone.now()
    zone = days.site_zone()
    hits = []
    for _ in range(count):
        if rng.random() < 0.1:
            # Right at a midnight of the site's zone, or a moment before it.
            day = days.today() - dt.timedelta(days=rng.randrange(SPAN_DAYS))
            when = dt.datetime.combine(day, dt.time.min, tzinfo=zone) - dt.timedelta(
                microseconds=rng.choice([0, 1])
            )
        else:
            when = now - dt.timedelta(seconds=rng.uniform(0, SPAN_DAYS * 86400))
        kind = rng.choices(["view", "visitor", "second"], [0.6, 0.25, 0.15])[0]
        view = kind == "view"
        is_bot = rng.random() < 0.2
        hits.append(
            HeaderHit(
                id=uuid.UUID(int=rng.getrandbits(128)),
                created_at=when,
                site=rng.choice(SITES),
                # A visitor-day's path is its visit's entry page, or none.
                path=rng.choice(PATHS if view else ["", *PATHS]),
                referrer_host=rng.choice(HOSTS) if view else "",
                user_agent=rng.choice([CHROME, IPHONE, GOOGLEBOT, ""]),
                headers={"Accept": rng.choice(["text/css", "*/*"])},
                kind=kind,
                channel=rng.choice(CHANNELS) if view else "",
                utm_source=rng.choice(TAGS) if kind != "second" else "",
                utm_medium=rng.choice(TAGS) if kind != "second" else "",
                utm_campaign=rng.choice(TAGS) if kind != "second" else "",
                language=rng.choice(LANGUAGES),
                country=rng.choice(COUNTRIES),
                browser=rng.choice(BROWSERS),
                os=rng.choice(SYSTEMS),
                device=rng.choice(DEVICES),
                is_bot=is_bot,
                bot_reason=rng.choice(REASONS) if is_bot else "",
                prefetch=rng.choice(["", "", "", "prefetch", "prerender"]),
                verified=rng.random() < 0.85,
            )
        )
    return hits


def _random_filters(rng: random.Random) -> dict[str, Any]:
    today = days.today()

    def day() -> dt.date | None:
        if rng.random() < 0.2:
            return None
        return today - dt.timedelta(days=rng.randrange(-1, SPAN_DAYS + 2))

    start, end = day(), day()
    if start and end and start > end and rng.random() < 0.8:
        start, end = end, start
    return {
        "site": rng.choice([None, None, *SITES, "nowhere.example"]),
        "start": start,
        "end": end,
        "kind": rng.choice([None, None, "view", "visitor", "second"]),
        "verified": rng.choice([True, True, False, None]),
        "traffic": rng.choice(list(stats.Traffic.LABELS)),
        "limit": rng.choice([1, 2, 3, 10]),
    }


def _raw(filters: dict[str, Any]) -> stats.Report:
    f = dict(filters)
    traffic, limit = f.pop("traffic"), f.pop("limit")
    return stats.report(stats.select(**f), traffic, f["start"], f["end"], limit)


def _assert_agree(rng: random.Random, rounds: int = 25) -> None:
    # Some filters the rolled-up days can answer are checked on every round.
    cases = [
        {
            "site": None,
            "start": None,
            "end": None,
            "kind": None,
            "verified": True,
            "traffic": stats.Traffic.HUMAN,
            "limit": 10,
        },
        *(_random_filters(rng) for _ in range(rounds)),
    ]
    for filters in cases:
        rolled = stats.report_for(**filters)
        raw = _raw(filters)
        if any(rolled.unlisted.values()):
            _assert_within(rolled, raw, _raw({**filters, "limit": 10**6}))
        else:
            assert rolled == raw, filters


# The report's lists, by their name in Report.unlisted.
LISTS = (
    *("pages", "referrers", "browsers", "systems", "devices", "bot_reasons"),
    *("channels", "entry_pages", "sources", "mediums", "campaigns", "languages", "countries"),
)


def _assert_within(rolled: stats.Report, raw: stats.Report, every: stats.Report) -> None:
    """Where the rollups folded rare values together: every number but the top
    lists exact, and each listed count within its stated bound of the truth."""
    lists = {name: (getattr(rolled, name), getattr(every, name)) for name in LISTS}
    assert dataclasses.replace(rolled, **{key: [] for key in LISTS}, unlisted={}) == (
        dataclasses.replace(raw, **{key: [] for key in LISTS}, unlisted={})
    )
    for name, (shown, truth) in lists.items():
        true = {row.label: row for row in truth}
        for row in shown:
            exact = true[row.label]
            assert row.views <= exact.views <= row.views + row.short, (name, row, exact)
            if row.visitors is not None:
                assert exact.visitors is not None
                assert row.visitors <= exact.visitors <= row.visitors + row.short
        if shown and len(shown) < len(truth):
            listed = {row.label for row in shown}
            most = max(row.views for row in truth if row.label not in listed)
            assert most <= shown[-1].views + rolled.unlisted[name], name
        if not rolled.unlisted[name]:
            assert [row.views for row in shown] == [row.views for row in truth[: len(shown)]]


def _sealed() -> set[dt.date]:
    return set(RolledDay.objects.filter(until=None).values_list("day", flat=True))


@pytest.mark.parametrize("seed", range(6))
def test_rolled_up_answers_equal_raw_answers(seed: int) -> None:
    rng = random.Random(seed)
    with override_settings(TIME_ZONE=ZONES[seed % len(ZONES)]):
        HeaderHit.objects.bulk_create(_random_hits(rng, 400))
        # Nothing rolled up: the raw path.
        _assert_agree(rng, 5)
        # Some days rolled up, with gaps between them.
        pending = rollups.pending()
        rollups.roll(pending[::2])
        assert _sealed()
        _assert_agree(rng)
        rollups.catch_up()
        assert rollups.pending() == []
        assert Rollup.objects.exists()
        _assert_agree(rng)


@pytest.mark.parametrize("seed", range(2))
def test_class_totals_equal_the_raw_hits_of_each_traffic_class(seed: int) -> None:
    rng = random.Random(100 + seed)
    HeaderHit.objects.bulk_create(_random_hits(rng, 300))
    rollups.roll(rollups.pending()[::2])
    for _ in range(12):
        f = _random_filters(rng)
        hits = stats.select(f["site"], f["start"], f["end"], f["kind"], f["verified"])
        expected = {name: stats.of_traffic(hits, name).count() for name in stats.Traffic.CLASSES}
        totals = stats.class_totals(f["site"], f["start"], f["end"], f["verified"], kind=f["kind"])
        assert totals == expected, f


def test_the_rollups_are_read_for_sealed_days() -> None:
    # Proof that the comparison above can fail: a hit written behind the
    # rollups' back is missing from their answer until the day is refreshed.
    rng = random.Random(7)
    HeaderHit.objects.bulk_create(_random_hits(rng, 100))
    rollups.catch_up()
    yesterday = days.today() - dt.timedelta(days=1)
    HeaderHit.objects.bulk_create(
        [HeaderHit(created_at=days.start_of(yesterday) + dt.timedelta(hours=12), path="/new/")]
    )
    filters = {"start": yesterday, "end": yesterday, "traffic": stats.Traffic.ALL}
    raw = stats.report(stats.select(start=yesterday, end=yesterday), stats.Traffic.ALL)
    assert stats.report_for(**filters).views == raw.views - 1
    rollups.refresh([yesterday])
    assert stats.report_for(**filters).views == raw.views


def test_prune_keeps_rollups_consistent() -> None:
    rng = random.Random(11)
    HeaderHit.objects.bulk_create(_random_hits(rng, 400))
    rollups.catch_up()
    call_command("lambdactr_prune", "--days", "5", "--batch-size", "37", stdout=_Null())
    assert not HeaderHit.objects.filter(created_at__lt=days.start_of(days.last_days(5)[0])).exists()
    _assert_agree(rng)
    # Days emptied by the prune are no longer counted from old rollups.
    assert stats.report_for(end=days.last_days(6)[0]).hits == 0


def test_an_interrupted_prune_leaves_exact_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(12)
    HeaderHit.objects.bulk_create(_random_hits(rng, 300))
    rollups.catch_up()
    calls = 0
    original = HeaderHit.objects.filter

    def interrupt_third_batch(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        if "pk__in" in kwargs:
            calls += 1
            if calls == 3:
                raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(HeaderHit.objects, "filter", interrupt_third_batch)
    with pytest.raises(Exception, match="Interrupted"):
        call_command("lambdactr_prune", "--days", "3", "--batch-size", "10", stdout=_Null())
    monkeypatch.undo()
    _assert_agree(rng)


def test_reclassify_keeps_rollups_consistent() -> None:
    rng = random.Random(13)
    HeaderHit.objects.bulk_create(_random_hits(rng, 300))
    rollups.catch_up()
    before = _sealed()
    call_command("lambdactr_reclassify", "--batch-size", "50", stdout=_Null())
    # The random labels were not those of the user agents: most changed.
    assert HeaderHit.objects.filter(browser="Mobile Safari", device="mobile").exists()
    assert _sealed() == before
    _assert_agree(rng)


def test_replayed_old_hits_are_rolled_up(tmp_path: Any) -> None:
    rng = random.Random(14)
    with override_settings(LAMBDACTR_SPOOL_DIR=str(tmp_path)):
        HeaderHit.objects.bulk_create(_random_hits(rng, 200))
        rollups.catch_up()
        old = _random_hits(rng, 60)
        assert spool.append(old)
        result = replay.replay(wait=True)
        assert result is not None
        assert result.stored == 60
    _assert_agree(rng)


def test_a_buffered_batch_of_old_hits_is_rolled_up() -> None:
    # Buffered mode stores hits up to an interval late, so a batch flushed
    # after midnight can belong to a day already rolled up.
    rng = random.Random(16)
    HeaderHit.objects.bulk_create(_random_hits(rng, 200))
    rollups.catch_up()
    old = _random_hits(rng, 60)
    assert buffer.store_batch([rows.record_of(hit) for hit in old]) == 60
    _assert_agree(rng)


def test_admin_delete_rolls_up_again(admin_client: Any) -> None:
    rng = random.Random(15)
    HeaderHit.objects.bulk_create(_random_hits(rng, 200))
    rollups.catch_up()
    doomed = list(
        HeaderHit.objects.filter(created_at__lt=days.start_of(days.today())).values_list(
            "pk", flat=True
        )[:20]
    )
    response = admin_client.post(
        # Every hit, not only the list's default of verified people.
        "/admin/lambdactr_django/headerhit/?traffic=all&verified=all",
        {
            "action": "delete_selected",
            "_selected_action": [str(pk) for pk in doomed],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not HeaderHit.objects.filter(pk__in=doomed).exists()
    _assert_agree(rng)
    one = HeaderHit.objects.filter(created_at__lt=days.start_of(days.today())).first()
    assert one is not None
    response = admin_client.post(
        f"/admin/lambdactr_django/headerhit/{one.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    _assert_agree(rng)


@pytest.mark.parametrize(
    ("first", "second"), [("UTC", "Asia/Tokyo"), ("America/Los_Angeles", "UTC")]
)
def test_a_time_zone_change_rebuilds_the_rollups(first: str, second: str) -> None:
    rng = random.Random(16)
    with override_settings(TIME_ZONE=first):
        HeaderHit.objects.bulk_create(_random_hits(rng, 300))
        rollups.catch_up()
        assert set(RolledDay.objects.values_list("zone", flat=True)) == {first}
    with override_settings(TIME_ZONE=second):
        # Days rolled up in the old zone are not read, even before anything is rebuilt.
        _assert_agree(rng)
        rollups.catch_up()
        assert set(RolledDay.objects.values_list("zone", flat=True)) == {second}
        assert rollups.pending() == []
        _assert_agree(rng)


def test_lambdactr_time_zone_counts_too() -> None:
    rng = random.Random(17)
    HeaderHit.objects.bulk_create(_random_hits(rng, 200))
    rollups.catch_up()
    with override_settings(LAMBDACTR_TIME_ZONE="Australia/Adelaide"):
        assert rollups.pending()
        _assert_agree(rng)
        rollups.catch_up()
        _assert_agree(rng)


def test_rolling_a_day_again_changes_nothing() -> None:
    rng = random.Random(18)
    HeaderHit.objects.bulk_create(_random_hits(rng, 200))
    rollups.catch_up()

    def rows() -> list[tuple[Any, ...]]:
        return sorted(
            Rollup.objects.values_list(
                *("day", "period", "scope", "site", "dimension", "value", "traffic"),
                *("verified", "views", "visitors", "seconds", "folded", "largest_views"),
                "largest_visitors",
            )
        )

    before = rows()
    rollups.roll(_sealed())
    assert rows() == before


def test_today_is_never_sealed() -> None:
    HeaderHit.objects.create(path="/today/")
    rollups.catch_up()
    assert days.today() not in _sealed()
    rollups.roll([days.today()])
    assert days.today() not in _sealed()
    assert stats.report_for(start=days.today(), end=days.today()).views == 1


def test_last_sealable_waits_a_little_after_midnight() -> None:
    midnight = days.start_of(dt.date(2026, 3, 10))
    assert rollups.last_sealable(midnight + dt.timedelta(minutes=1)) == dt.date(2026, 3, 8)
    assert rollups.last_sealable(midnight + rollups.SEAL_GRACE) == dt.date(2026, 3, 9)


def test_the_statistics_page_seals_a_few_days_by_itself(admin_client: Any) -> None:
    rng = random.Random(19)
    HeaderHit.objects.bulk_create(_random_hits(rng, 200))
    response = admin_client.get("/admin/lambdactr_django/headerhit/statistics/?when=30d")
    assert response.status_code == 200
    assert len(_sealed()) == rollups.LAZY_DAYS
    raw = _raw(
        {
            "site": None,
            "start": days.last_days(30)[0],
            "end": days.today(),
            "kind": None,
            "verified": True,
            "traffic": stats.Traffic.HUMAN,
            "limit": stats.TOP_ROWS,
        }
    )
    assert response.context["report"] == raw


@pytest.mark.parametrize(
    ("query", "rolled"),
    [
        ("when=30d&traffic=all", True),
        ("when=7d&site=blog.example&traffic=bot&kind__exact=view&verified=all&q=", True),
        ("when=30d&traffic=all&path=/a/", False),
        ("when=30d&traffic=all&q=Chrome", False),
        ("when=30d&traffic=all&browser=Firefox", False),
        ("traffic=all&kind__exact=view&kind__exact=visitor", False),
    ],
)
def test_the_statistics_page_uses_rollups_where_they_answer(
    admin_client: Any, query: str, rolled: bool
) -> None:
    rng = random.Random(20)
    HeaderHit.objects.bulk_create(_random_hits(rng, 200))
    rollups.catch_up()
    # A hit behind the rollups' back shows which source answered.
    yesterday = days.today() - dt.timedelta(days=1)
    HeaderHit.objects.bulk_create(
        [
            HeaderHit(
                created_at=days.start_of(yesterday) + dt.timedelta(hours=1),
                site="blog.example",
                path="/a/",
                user_agent="Chrome",
                browser="Firefox",
                kind="view",
                is_bot=True,
            )
        ]
    )
    url = f"/admin/lambdactr_django/headerhit/statistics/?{query}"
    report = admin_client.get(url).context["report"]
    rollups.refresh([yesterday])
    exact = admin_client.get(url).context["report"]
    assert (report.hits == exact.hits - 1) is rolled
    assert (report.hits == exact.hits) is not rolled


def test_lambdactr_rollup_command() -> None:
    rng = random.Random(21)
    HeaderHit.objects.bulk_create(_random_hits(rng, 200))
    out = _Capture()
    call_command("lambdactr_rollup", stdout=out)
    assert "Rolled up" in out.text
    assert rollups.pending() == []
    sealed = _sealed()
    out = _Capture()
    call_command("lambdactr_rollup", stdout=out)
    assert "0 days to roll up" in out.text
    call_command("lambdactr_rollup", "--rebuild", "--days", "3", stdout=_Null())
    assert _sealed() == sealed
    _assert_agree(rng)


@override_settings(DEBUG=True)
def test_seed_rolls_up_what_it_made() -> None:
    call_command("lambdactr_seed", "--hits", "3000", "--days", "20", "--sites", "4", stdout=_Null())
    assert rollups.pending() == []
    assert len(_sealed()) >= 18
    _assert_agree(random.Random(22))


class _Null:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


class _Capture(_Null):
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text


def test_lambdactr_report_reads_the_rollups() -> None:
    rng = random.Random(23)
    HeaderHit.objects.bulk_create(_random_hits(rng, 300))
    rollups.catch_up()
    out = _Capture()
    call_command("lambdactr_report", "--days", "10", "--format", "json", stdout=out)
    start, end = days.last_days(10)
    raw = stats.report(stats.select(start=start, end=end), stats.Traffic.HUMAN, start, end)
    assert json.loads(out.text) == json.loads(json.dumps(raw.to_dict(), default=str))
    assert len(_sealed()) > 5


@pytest.mark.parametrize("heavy", [3, 6])
def test_top_pages_from_busy_pages_first(monkeypatch: pytest.MonkeyPatch, heavy: int) -> None:
    # Few busy pages over a long tail, as on a real site: the top pages are
    # found from the busy page-days alone, and still equal the raw answer.
    monkeypatch.setattr(merge, "HEAVY", heavy)
    rng = random.Random(24 + heavy)
    hits = _random_hits(rng, 300)
    for hit in hits[:150]:
        hit.site, hit.path, hit.kind, hit.verified = (
            "blog.example",
            rng.choice(["/", "/a/"]),
            "view",
            True,
        )
        hit.is_bot, hit.bot_reason, hit.prefetch = False, "", ""
    for number, hit in enumerate(hits[150:]):
        hit.path = f"/tail/{number}/"
    HeaderHit.objects.bulk_create(hits)
    rollups.catch_up()
    merged: list[tuple[list[str], str]] = []
    original = merge.merged

    def recording(*args: Any) -> Any:
        merged.append((args[2], str(args[1].query)))
        return original(*args)

    monkeypatch.setattr(merge, "merged", recording)
    _assert_agree(rng, 40)
    # Entry pages are merged by site and path too.
    pages = [sql for keys, sql in merged if keys == ["site", "path"] and "= page" in sql]
    busy_first = [sql for sql in pages if " IN (" in sql]
    # Each of the 41 reports counts pages once, plus once more for each try
    # from the busy pages that did not settle it: some did.
    assert busy_first
    assert len(pages) < 41 + len(busy_first)


def test_a_page_busy_every_day_but_never_heavy_still_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(merge, "HEAVY", 3)
    today = days.today()
    hits = []
    for ago in range(1, 12):
        noon = days.start_of(today - dt.timedelta(days=ago)) + dt.timedelta(hours=12)
        # Two views a day: never a heavy row, 22 in all.
        hits += [HeaderHit(created_at=noon, site="blog.example", path="/spread/") for _ in range(2)]
    for ago, path, count in [(1, "/", 40), (2, "/", 30), (3, "/a/", 15)]:
        noon = days.start_of(today - dt.timedelta(days=ago)) + dt.timedelta(hours=12)
        hits += [HeaderHit(created_at=noon, site="blog.example", path=path) for _ in range(count)]
    HeaderHit.objects.bulk_create(hits)
    rollups.catch_up()
    for limit in (1, 2, 3):
        rolled = stats.report_for(limit=limit)
        raw = stats.report(stats.select(), limit=limit)
        assert rolled.pages == raw.pages
    assert [row.label for row in raw.pages] == [
        "blog.example/",
        "blog.example/spread/",
        "blog.example/a/",
    ]


def _pin(monkeypatch: pytest.MonkeyPatch, instant: dt.datetime) -> None:
    # Django's clock, which the calendar, the rollups and these tests read.
    monkeypatch.setattr(timezone, "now", lambda: instant)


def _today_at(hours: float) -> dt.datetime:
    midnight = days.start_of(dt.datetime.now(dt.UTC).astimezone(days.site_zone()).date())
    return midnight.astimezone(dt.UTC) + dt.timedelta(hours=hours)


# Just after midnight (yesterday not sealable yet, not even its last hour),
# early, midday and a minute before the next midnight: the worst hour.
HOURS = [5 / 60, 1.2, 12.5, 23 + 59 / 60]


@pytest.mark.parametrize("hours", HOURS)
def test_at_any_hour_the_rollups_answer_as_the_raw_hits(
    monkeypatch: pytest.MonkeyPatch, hours: float
) -> None:
    _pin(monkeypatch, _today_at(hours))
    rng = random.Random(int(hours * 60))
    with override_settings(TIME_ZONE="Pacific/Chatham"):
        _pin(monkeypatch, _today_at(hours))
        HeaderHit.objects.bulk_create(_random_hits(rng, 400))
        rollups.catch_up()
        partial = rollups.partial()
        # Today (and yesterday, just after midnight) rolled up to a whole hour.
        assert all(until <= timezone.now() - rollups.SEAL_GRACE for until in partial.values())
        assert (days.today() in partial) is (hours >= 1 + 1 / 6)
        assert (days.today() - dt.timedelta(days=1) in partial) is (hours < 1 / 6)
        _assert_agree(rng)


def test_today_is_rolled_up_by_the_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    now = _today_at(15.5)
    _pin(monkeypatch, now)
    today = days.today()
    HeaderHit.objects.bulk_create([HeaderHit(created_at=_today_at(9), path="/nine/")])
    assert rollups.catch_up() == 1
    assert rollups.partial() == {today: _today_at(15)}
    # Nothing new to roll within the same hour.
    assert rollups.catch_up() == 0
    behind = HeaderHit(created_at=_today_at(10), path="/ten/")
    HeaderHit.objects.bulk_create([behind, HeaderHit(created_at=_today_at(15.2), path="/now/")])
    # The hour rolled up is read from the rollups, the current one raw.
    assert stats.report_for(start=today, end=today).views == 2
    # A buffered batch of the current hour rolls nothing again; one of an earlier hour does.
    assert rollups.refresh_for([_today_at(15.3)]) == 0
    assert rollups.refresh_for([behind.created_at]) == 1
    assert stats.report_for(start=today, end=today).views == 3
    _pin(monkeypatch, _today_at(16.2))
    assert rollups.catch_up() == 1
    assert rollups.partial() == {today: _today_at(16)}
    # Three pages of one site: three rows of the site's and three of every site's.
    pages = Rollup.objects.filter(day=today, dimension="page")
    assert pages.filter(scope="site").count() == pages.filter(scope="all").count() == 3


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/New_York", dt.date(2026, 3, 8), 23),
        ("America/New_York", dt.date(2026, 11, 1), 25),
        ("Pacific/Chatham", dt.date(2026, 4, 5), 25),
        ("Asia/Kolkata", dt.date(2026, 4, 5), 24),
    ],
)
def test_hours_count_from_the_sites_midnight(zone: str, day: dt.date, hours: int) -> None:
    with override_settings(TIME_ZONE=zone):
        midnight = days.start_of(day).astimezone(dt.UTC)
        end = days.start_of(day + dt.timedelta(days=1)).astimezone(dt.UTC)
        assert end - midnight == dt.timedelta(hours=hours)
        grace = rollups.SEAL_GRACE
        assert rollups.hour_mark(day, midnight + dt.timedelta(minutes=69)) is None
        assert rollups.hour_mark(day, midnight + dt.timedelta(hours=1) + grace) == (
            midnight + dt.timedelta(hours=1)
        )
        # The last hour of a day of 23 or 25, never past its end.
        assert rollups.hour_mark(day, end + grace - dt.timedelta(seconds=1)) == (
            end - dt.timedelta(hours=1)
        )
        assert rollups.hour_mark(day, end + dt.timedelta(days=3)) == end


def _long_tail(rng: random.Random, count: int) -> list[HeaderHit]:
    # Far more values a day than LAMBDACTR_ROLLUP_KEEP, a few of them busy.
    hits = _random_hits(rng, count)
    for hit in hits:
        # Most hits in a few groups (one site, people, signed), as on a real site.
        if rng.random() < 0.8:
            hit.site, hit.verified, hit.is_bot, hit.bot_reason, hit.prefetch = (
                "blog.example",
                True,
                False,
                "",
                "",
            )
        busy = rng.random() < 0.5
        if hit.kind == "view":
            hit.path = rng.choice(["/", "/a/"]) if busy else f"/tail/{rng.randrange(80)}/"
            hit.referrer_host = rng.choice(["", f"ref{rng.randrange(40)}.example"])
        if hit.kind == "visitor":
            hit.path = rng.choice(["/", "/a/"]) if busy else f"/entry/{rng.randrange(60)}/"
        if hit.kind != "second" and hit.utm_campaign:
            hit.utm_campaign = "launch" if busy else f"campaign {rng.randrange(40)}"
        hit.browser = "Chrome" if busy else f"Browser {rng.randrange(30)}"
        hit.language = "en-US" if busy else f"x{rng.randrange(30)}"
    return hits


@pytest.mark.parametrize("seed", range(3))
def test_a_folded_long_tail_keeps_totals_exact_and_lists_bounded(seed: int) -> None:
    rng = random.Random(100 + seed)
    with override_settings(LAMBDACTR_ROLLUP_KEEP=10, TIME_ZONE=ZONES[seed]):
        HeaderHit.objects.bulk_create(_long_tail(rng, 1500))
        rollups.catch_up()
        folded = Rollup.objects.filter(folded__gt=0)
        assert folded.filter(dimension="page").exists()
        assert folded.filter(dimension="browser").exists()
        assert folded.filter(dimension="entry").exists()
        assert folded.filter(dimension="language").exists()
        # At most the kept values and one row of the others per group: ten
        # for people, one for bots and prefetches (the defaults; bot reasons
        # are kept as people's values are).
        # A group of every site's rows is not one site's: its folded row names
        # no site, the kept rows of pages do; people's paths and referrers
        # over every site keep 30 (LAMBDACTR_ROLLUP_KEEP_EVERY_SITE).
        rows = Rollup.objects.exclude(dimension="bot_reason")
        group = ("period", "day", "dimension", "traffic", "verified")
        tails = Q(scope="all", traffic=stats.Traffic.HUMAN, dimension__in=rollups.LONG_TAILS)
        for scope, keys in (("site", (*group, "site")), ("all", group)):
            groups = rows.filter(scope=scope).exclude(tails).values(*keys)
            for traffic, most in ((stats.Traffic.HUMAN, 11), (stats.Traffic.BOT, 2)):
                per_group = groups.filter(traffic=traffic).annotate(n=Count("pk")).order_by("-n")
                assert per_group[0]["n"] == most
        per_group = rows.filter(tails).values(*group).annotate(n=Count("pk")).order_by("-n")
        assert per_group[0]["n"] == 31
        reports = [stats.report_for(**_random_filters(rng)) for _ in range(3)]
        _assert_agree(rng, 30)
        whole = stats.report_for(traffic=stats.Traffic.ALL)
        assert whole.unlisted["pages"] > 0
        assert any(row.short for row in whole.browsers + whole.pages)
        # The busy values are kept every day in people's groups: their counts
        # stay exact (bots' groups keep one value, so there they may not).
        people = stats.report_for()
        assert people.browsers[0].label == "Chrome"
        assert people.browsers[0].short == 0
        assert reports


def test_a_count_short_of_its_bound_fails_the_check() -> None:
    # Proof that _assert_within can fail: a listed count below the truth with no bound.
    rng = random.Random(31)
    with override_settings(LAMBDACTR_ROLLUP_KEEP=10):
        HeaderHit.objects.bulk_create(_long_tail(rng, 800))
        rollups.catch_up()
        rolled = stats.report_for(traffic=stats.Traffic.ALL, verified=None)
    raw = stats.report(stats.select(verified=None), stats.Traffic.ALL)
    every = stats.report(stats.select(verified=None), stats.Traffic.ALL, limit=10**6)
    _assert_within(rolled, raw, every)
    top = rolled.pages[0]
    wrong = dataclasses.replace(
        rolled, pages=[dataclasses.replace(top, views=top.views - 1, short=0), *rolled.pages[1:]]
    )
    with pytest.raises(AssertionError):
        _assert_within(wrong, raw, every)
