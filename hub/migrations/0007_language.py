from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('hub', '0006_users')]

    operations = [
        ops.AddField(
            model_name='Contact',
            name='language',
            field=fields.CharField(max_length=8, null=True),
        ),
    ]
