# Whether a ward kept a year in the system (a registration created before the year ended): one
# probe per year into this index instead of reading the ward's past registrations.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('titles', '0019_decision_printed_order_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='registration',
            index=models.Index(fields=['ward', 'year', 'created_at'], name='reg_ward_year_created'),
        ),
    ]
