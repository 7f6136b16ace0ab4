"""Synthetic hits labelled exactly as capture labels real ones, fast enough for millions."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import random
from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from lambdactr_django.beacon import sources
from lambdactr_django.beacon.capture import labels_for
from lambdactr_django.beacon.clean import referrer_host
from lambdactr_django.conf import conf
from lambdactr_django.hits import Kind, Resource
from lambdactr_django.synthetic.mix import (
    _PATH_SECTIONS,
    _SITE_WORDS,
    _SLUG_WORDS,
    CAMPAIGN_SHARE,
    CAMPAIGNS,
    CHROMIUM,
    COUNTRIES,
    CRAWLER,
    DIRECT_SHARE,
    DNT_SHARE,
    FIREFOX,
    GPC_SHARE,
    HOURS,
    IMAGE_SHARE,
    LANGUAGES,
    PATHS_PER_SITE,
    PREFETCH_SHARE,
    REFERRERS,
    SAFARI,
    SECOND_VIEW_SHARE,
    USER_AGENTS,
    VISITOR_SHARE,
    WEEKDAYS,
)
from lambdactr_django.uuid7 import uuid7


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class Generator:
    """Rows in the order of ``hits.COLUMNS``, with headers as JSON text."""

    def __init__(self, seed: int, sites: int, days: int) -> None:
        self.random = random.Random(seed)
        self.days = days
        # Django's clock, so a benchmark that pins it (bench/stats_scale.py) pins the hits too.
        self.now = timezone.now().astimezone(dt.UTC).replace(microsecond=0)
        self.sites = self._sites(sites)
        # Zipf-like: the k-th most popular site or page is 1/k as popular as the first.
        self.site_weights = _cumulative([1 / (k + 1) for k in range(sites)])
        self.paths = [self._paths(PATHS_PER_SITE) for _ in self.sites]
        self.path_weights = _cumulative([1 / (k + 1) ** 1.1 for k in range(PATHS_PER_SITE)])
        self.agent_weights = _cumulative([weight for weight, *_ in USER_AGENTS])
        self.language_weights = _cumulative([weight for weight, _ in LANGUAGES])
        self.referrer_weights = _cumulative([weight for weight, _ in REFERRERS])
        self.referrer_hosts = [referrer_host(url) for _, url in REFERRERS]
        self.language_tags = [sources.language_of(value) for _, value in LANGUAGES]
        self.country_weights = _cumulative([weight for weight, _ in COUNTRIES])
        self.campaign_weights = _cumulative([weight for weight, _ in CAMPAIGNS])
        self.campaigns = [sources.Campaign(*tags) for _, tags in CAMPAIGNS]
        # Capture's channel of each (referrer, campaign or none), computed once.
        self.channels: dict[tuple[int, int], str] = {}
        self.hour_weights = _cumulative(HOURS)
        today = self.now.replace(hour=0, minute=0, second=0)
        self.midnights = [today - dt.timedelta(days=ago) for ago in range(days)]
        # Busier on weekdays, and growing: a year ago a third fewer hits than now.
        self.day_weights = _cumulative(
            [
                WEEKDAYS[midnight.weekday()] * (1 - 0.33 * ago / days)
                for ago, midnight in enumerate(self.midnights)
            ]
        )
        self.signals = conf.PRIVACY_SIGNALS != "honour"
        # Labels depend on the user agent and on headers drawn from a few values:
        # computed once per combination, never per row.
        self.templates: dict[tuple[Any, ...], tuple[str, tuple[Any, ...]]] = {}

    def _sites(self, count: int) -> list[str]:
        names = [f"{word}.example" for word in _SITE_WORDS]
        names += [f"{a}-{b}.example" for a in _SITE_WORDS for b in _SITE_WORDS if a != b]
        names += [f"site{n}.example" for n in range(len(names), count)]
        return self.random.sample(names[: max(count, len(_SITE_WORDS))], count)

    def _paths(self, count: int) -> list[str]:
        paths = ["/"]
        seen = {"/"}
        while len(paths) < count:
            section = self.random.choice(_PATH_SECTIONS)
            slug = "-".join(self.random.sample(_SLUG_WORDS, self.random.randint(1, 4)))
            path = f"/{section}/{slug}/"
            if path not in seen:
                seen.add(path)
                paths.append(path)
        return paths

    def _pick(self, cumulative: list[float]) -> int:
        return bisect.bisect(cumulative, self.random.random() * cumulative[-1])

    def _when(self) -> dt.datetime:
        earliest = self.now - dt.timedelta(days=self.days)
        while True:
            midnight = self.midnights[self._pick(self.day_weights)]
            seconds = self._pick(self.hour_weights) * 3600 + self.random.randrange(3600)
            when = midnight + dt.timedelta(seconds=seconds)
            # Today's later hours and the first day's earlier ones are outside the window.
            if earliest < when <= self.now:
                return when

    def _template(self, key: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        template = self.templates.get(key)
        if template is None:
            template = self.templates[key] = self._make_template(*key)
        return template

    def _make_template(
        self,
        agent: int,
        language: int,
        resource: str,
        purpose: str,
        direct: bool,
        dnt: bool,
        gpc: bool,
    ) -> tuple[str, tuple[Any, ...]]:
        _, client, platform, user_agent = USER_AGENTS[agent]
        headers = {"User-Agent": user_agent}
        image = resource == Resource.IMAGE
        if client == CRAWLER:
            headers["Accept"] = "*/*"
            headers["Accept-Encoding"] = "gzip, deflate"
        else:
            headers["Accept"] = (
                "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"
                if image
                else "text/css,*/*;q=0.1"
            )
            headers["Accept-Language"] = LANGUAGES[language][1]
            headers["Accept-Encoding"] = "gzip, deflate, br, zstd"
        if client == CHROMIUM:
            headers["Sec-CH-UA"] = '"Chromium";v="124", "Not-A.Brand";v="99"'
            headers["Sec-CH-UA-Mobile"] = "?1" if "Mobile" in user_agent else "?0"
            headers["Sec-CH-UA-Platform"] = platform
        if client in (CHROMIUM, FIREFOX, SAFARI):
            headers["Sec-Fetch-Dest"] = "document" if direct else ("image" if image else "style")
            headers["Sec-Fetch-Mode"] = "navigate" if direct else "no-cors"
            headers["Sec-Fetch-Site"] = "none" if direct else "same-origin"
        if purpose:
            headers["Sec-Purpose"] = purpose
        if dnt:
            headers["DNT"] = "1"
        if gpc:
            headers["Sec-GPC"] = "1"
        labels = labels_for(user_agent, headers, resource)
        # JSON of the headers with the Referer left open, which is the one value
        # that changes per row and never changes a label.
        prefix = json.dumps(headers)[:-1] + ', "Referer": '
        return prefix, (
            user_agent,
            labels.browser,
            labels.os,
            labels.device,
            labels.is_bot,
            labels.bot_reason,
            labels.prefetch,
            labels.dnt,
            labels.gpc,
        )

    def rows(self, count: int) -> Iterator[tuple[Any, ...]]:
        rnd = self.random.random
        for _ in range(count):
            site_index = self._pick(self.site_weights)
            site = self.sites[site_index]
            page = self.paths[site_index][self._pick(self.path_weights)]
            drawn = rnd()
            kind = Kind.VIEW
            if drawn < VISITOR_SHARE:
                kind = Kind.VISITOR_DAY
            elif drawn < VISITOR_SHARE + SECOND_VIEW_SHARE:
                kind = Kind.SECOND_VIEW
            agent = self._pick(self.agent_weights)
            client = USER_AGENTS[agent][1]
            human = client != CRAWLER
            resource = Resource.IMAGE if rnd() < IMAGE_SHARE else Resource.STYLESHEET
            purpose = ""
            if human and client == CHROMIUM and rnd() < PREFETCH_SHARE:
                purpose = "prefetch;prerender" if rnd() < 0.7 else "prefetch"
            language = self._pick(self.language_weights) if human else 0
            key = (
                agent,
                language,
                resource,
                purpose,
                human and rnd() < DIRECT_SHARE,
                self.signals and human and rnd() < DNT_SHARE,
                self.signals and human and rnd() < GPC_SHARE,
            )
            prefix, (user_agent, *labels) = self._template(key)
            # The visitor link's path is the page that loaded it (an entry page).
            path = page
            referrer = host = channel = ""
            tagged = -1
            if kind != Kind.SECOND_VIEW and rnd() < CAMPAIGN_SHARE:
                tagged = self._pick(self.campaign_weights)
            campaign = self.campaigns[tagged] if tagged >= 0 else sources.Campaign()
            if kind == Kind.VIEW:
                chosen = self._pick(self.referrer_weights)
                referrer, host = REFERRERS[chosen][1], self.referrer_hosts[chosen]
                channel = self._channel(chosen, tagged)
            # The beacon's own Referer is the page that loaded it.
            headers = f"{prefix}{json.dumps(f'https://{site}{page}')}}}"
            yield (
                uuid7(),
                self._when(),
                kind,
                resource,
                site,
                path,
                referrer,
                host,
                *labels,
                True,
                user_agent,
                headers,
                channel,
                *campaign,
                self.language_tags[language] if human else "",
                COUNTRIES[self._pick(self.country_weights)][1],
            )

    def _channel(self, referrer: int, tagged: int) -> str:
        channel = self.channels.get((referrer, tagged))
        if channel is None:
            campaign = self.campaigns[tagged] if tagged >= 0 else sources.Campaign()
            channel = sources.channel_for(self.referrer_hosts[referrer], campaign)
            self.channels[(referrer, tagged)] = channel
        return channel
