from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.migrations.schema_editor.sqlite import SqliteSchemaEditor


_SQLITE_INDEXES = """
CREATE INDEX IF NOT EXISTS "idx_hub_message_busines_f89a88" ON "hub_message" ("business", "phone");
CREATE INDEX IF NOT EXISTS "idx_hub_message_busines_fffad4"
    ON "hub_message" ("business", "purpose", "created_at");
"""


class RemoveInlineUnique(ops.RemoveConstraint):
    """SQLite keeps ``unique_together`` inside ``CREATE TABLE``, where no ``DROP INDEX``
    reaches it (Tortoise tries one and fails): rebuild the table without it instead, and put
    back the indexes the rebuild drops."""

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        if isinstance(state_editor, SqliteSchemaEditor):
            model = new_state.apps.get_model(f"{app_label}.{self.model_name}")
            await state_editor._remake_table(model)
            await state_editor.client.execute_script(_SQLITE_INDEXES)
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('hub', '0007_language')]

    initial = False

    # A provider's message id is unique within one business only: another business may send
    # (or a forger may claim) the same id, and must not collide with, or reach, this one's text.
    operations = [
        RemoveInlineUnique(
            model_name='Message',
            name=None,
            fields=['provider', 'provider_message_id'],
        ),
        ops.AddConstraint(
            model_name='Message',
            constraint=UniqueConstraint(fields=('business', 'provider', 'provider_message_id'), name=None),
        ),
    ]
