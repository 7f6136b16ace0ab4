from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lambdactr_django.api import tokens
from lambdactr_django.models import ApiToken


class Command(BaseCommand):
    help = (
        "Make, list or revoke a user's read-only tokens of the JSON statistics "
        "(api/statistics.json, sent as 'Authorization: Bearer TOKEN'). A token reads what "
        "its user may: staff with the hits' view permission, while active. 'create' prints "
        "the new token once; only its hash is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = actions.add_parser("create", help="Make a token and print it (once).")
        create.add_argument("user", help="The user's username.")
        create.add_argument("--name", default="", help="What the token is for, e.g. 'Grafana'.")
        listing = actions.add_parser("list", help="The user's tokens (prefix, name, dates).")
        listing.add_argument("user", help="The user's username.")
        revoke = actions.add_parser("revoke", help="Revoke the user's tokens.")
        revoke.add_argument("user", help="The user's username.")
        revoke.add_argument(
            "--prefix",
            help="Only the token starting so (as 'list' shows it); without it, every token.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["user"])
        action = options["action"]
        if action == "create":
            if not tokens.may_read(user):
                self.stderr.write(
                    f"Warning: {user} may not read the statistics (staff with the view "
                    "permission of hits, active): the token is refused until they may."
                )
            token, secret = tokens.create(user, options["name"])
            self.stdout.write(secret)
            self.stderr.write(f"Made token {token.prefix}… for {user}; it is shown only now.")
        elif action == "list":
            for token in ApiToken.objects.filter(user=user):
                used = token.last_used_at.isoformat() if token.last_used_at else "never used"
                state = f"revoked {token.revoked_at.isoformat()}" if token.revoked_at else "live"
                self.stdout.write(
                    f"{token.prefix}…\t{token.name or '-'}\tcreated "
                    f"{token.created_at.isoformat()}\t{used}\t{state}"
                )
        else:
            chosen = ApiToken.objects.filter(user=user)
            if options["prefix"]:
                chosen = chosen.filter(prefix__startswith=options["prefix"].rstrip("…"))
                if not chosen.exists():
                    raise CommandError(f"{user} has no token starting {options['prefix']!r}.")
            count = tokens.revoke(chosen)
            self.stdout.write(f"Revoked {count} token{'s' if count != 1 else ''} of {user}.")

    @staticmethod
    def _user(username: str) -> Any:
        model = get_user_model()
        try:
            return model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist as error:
            raise CommandError(f"No user {username!r}.") from error
