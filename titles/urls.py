"""The titles pages: staff registering and entering evidence, officials reviewing and deciding."""

from titles.views import review, staff

urlpatterns = [*staff.urlpatterns, *review.urlpatterns]
