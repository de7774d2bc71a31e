"""Drop Django REST framework's token table, which kept each API key in clear.

API tokens are django-rest-knox's since this migration (only a digest of each key is stored);
the old keys cannot be carried over, so their holders ask for a new token at /api/v1/token/.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("knox", "0009_extend_authtoken_field")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
    ]
