# A decision's rows in the printed order: title, Vietnamese name order, id.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('titles', '0018_number_remaining_certificates'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='registration',
            name='reg_decision',
        ),
        migrations.AddIndex(
            model_name='registration',
            index=models.Index(condition=models.Q(('decision__isnull', False)), fields=['decision', 'kind', 'sort_key', 'id'], name='reg_decision'),
        ),
    ]
