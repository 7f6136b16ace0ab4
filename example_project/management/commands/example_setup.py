from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Prepare the example site: apply migrations and make sure a superuser exists, "
        "printing its login. The password is new on every run unless --password is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", help="Default: a fresh random password, printed.")

    def handle(self, *args: Any, username: str, password: str | None, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        password = password or secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(self.style.SUCCESS("Example site ready."))
        self.stdout.write(f"Admin login: user {username!r}, password {password!r}")
