"""The titles pages: staff registering and entering evidence, officials reviewing and deciding,
reports sent upward."""

from titles.views import reports, review, signoff, staff

urlpatterns = [*staff.urlpatterns, *review.urlpatterns, *reports.urlpatterns, *signoff.urlpatterns]
