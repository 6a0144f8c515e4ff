from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('hub', '0004_delivery_events')]

    operations = [
        ops.AddField(
            model_name='Lead',
            name='source',
            field=fields.CharField(max_length=64, null=True),
        ),
        ops.AddField(
            model_name='Lead',
            name='email',
            field=fields.CharField(max_length=254, null=True),
        ),
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=64)),
                ('token_hash', fields.CharField(max_length=64, unique=True)),
                ('businesses', fields.JSONField(default=list)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'hub_api_token', 'app': 'hub', 'pk_attr': 'id', 'table_description': 'A token for the JSON API (``hub tokens create``).'},
            bases=['Model'],
        ),
    ]
