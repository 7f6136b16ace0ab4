from __future__ import annotations

from django.db import migrations, models

import lambdactr_django.uuid7


class Migration(migrations.Migration):
    dependencies = [
        ("lambdactr_django", "0002_analytics_labels"),
    ]

    operations = [
        # The key's default is made in Python, so the database has nothing to
        # change; a plain AlterField would make SQLite copy the whole table.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="headerhit",
                    name="id",
                    field=models.UUIDField(
                        default=lambdactr_django.uuid7.uuid7,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
            ],
        ),
    ]
