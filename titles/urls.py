"""The titles pages: staff registering and entering evidence, officials reviewing and deciding,
reports sent upward."""

from titles.views import dashboard, reports, review, signoff, slips, staff

urlpatterns = [
    *staff.urlpatterns,
    *slips.urlpatterns,
    *review.urlpatterns,
    *reports.urlpatterns,
    *signoff.urlpatterns,
    *dashboard.urlpatterns,
]
