from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('hub', '0001_initial')]

    operations = [
        ops.CreateModel(
            name='PluginStateEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plugin', fields.CharField(max_length=64)),
                ('business', fields.CharField(max_length=64)),
                ('key', fields.CharField(max_length=255)),
                ('value', fields.JSONField()),
                ('version', fields.IntField(default=1)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'hub_plugin_state', 'app': 'hub', 'unique_together': (('plugin', 'business', 'key'),), 'pk_attr': 'id', 'table_description': "One key of a plugin's durable key-value state for one business (``context.state``)."},
            bases=['Model'],
        ),
    ]
