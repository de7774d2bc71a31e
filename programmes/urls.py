"""The programmes' pages, under /programmes/."""

from django.urls import path

from programmes import views

urlpatterns = [
    path("", views.programme_list, name="programme_list"),
    path("new/", views.programme_create, name="programme_create"),
    path("import/", views.programmes_import, name="programmes_import"),
    path("dashboard/", views.dashboard, name="programmes_dashboard"),
    path("contributions/", views.contribution_list, name="contribution_list"),
    path("contributions/<int:pk>/edit/", views.contribution_edit, name="contribution_edit"),
    path("beneficiaries/", views.beneficiary_list, name="beneficiary_list"),
    path("beneficiaries/<int:pk>/edit/", views.beneficiary_edit, name="beneficiary_edit"),
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/edit/", views.delivery_edit, name="delivery_edit"),
    path("p/<str:code>/", views.programme_detail, name="programme_detail"),
    path("p/<str:code>/edit/", views.programme_edit, name="programme_edit"),
    path("p/<str:code>/organisers/", views.programme_organisers, name="programme_organisers"),
    path("p/<str:code>/contributions/new/", views.contribution_create, name="contribution_create"),
    path("p/<str:code>/beneficiaries/new/", views.beneficiary_create, name="beneficiary_create"),
    path("p/<str:code>/deliveries/new/", views.delivery_create, name="delivery_create"),
    path("p/<str:code>/wards/<str:ward>/", views.dashboard_ward, name="programmes_dashboard_ward"),
    path("<str:code>/public/", views.programme_public, name="programme_public"),
]
