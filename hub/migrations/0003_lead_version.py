from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('hub', '0002_plugin_state')]

    operations = [
        ops.AddField(
            model_name='Lead',
            name='version',
            field=fields.IntField(default=0, db_default=0, description='Bumped by every change (``hub.store.leads.change_lead``), so readers can order updates.'),
        ),
        ops.AddIndex(
            model_name='Call',
            index=Index(fields=['lead_id', 'at']),
        ),
    ]
