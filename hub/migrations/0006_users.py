from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('hub', '0005_sources_tokens')]

    operations = [
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(max_length=254, unique=True)),
                ('password_hash', fields.CharField(max_length=255)),
                ('role', fields.CharField(max_length=16)),
                ('businesses', fields.JSONField(default=list)),
                ('failed_logins', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('session_epoch', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now_add=True, auto_now=False)),
            ],
            options={'table': 'hub_user', 'app': 'hub', 'pk_attr': 'id', 'table_description': 'A person who signs in to the dashboard (``hub users``).'},
            bases=['Model'],
        ),
    ]
