from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('hub', '0003_lead_version')]

    operations = [
        ops.AddField(
            model_name='Delivery',
            name='event_id',
            field=fields.CharField(max_length=32, null=True),
        ),
        ops.AddField(
            model_name='Delivery',
            name='lead_version',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
