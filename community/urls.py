"""The groups' pages, under /groups/."""

from django.urls import path

from community import views

urlpatterns = [
    path("", views.group_list, name="group_list"),
    path("new/", views.group_create, name="group_create"),
    path("dashboard/", views.groups_dashboard, name="groups_dashboard"),
    path("dashboard/wards/<str:code>/", views.groups_dashboard_ward, name="groups_dashboard_ward"),
    path("<int:pk>/", views.group_detail, name="group_detail"),
    path("<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("<int:pk>/members/new/", views.member_create, name="member_create"),
    path("<int:pk>/activities/new/", views.activity_create, name="activity_create"),
]
