from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from fallback.accounts import views
from fallback.accounts.forms import EmailAuthenticationForm

# The pages of one's own account and of an organisation's settings, as `accounts:<name>`.
account_patterns: list[URLPattern | URLResolver] = [
    path("account/", views.account, name="account"),
    path("account/password/", views.PasswordChange.as_view(), name="password_change"),
    path("account/tokens/", views.tokens, name="tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("o/<slug:org_slug>/settings/", views.org_settings, name="org_settings"),
    path("o/<slug:org_slug>/settings/members/", views.members, name="members"),
    path("o/<slug:org_slug>/settings/members/<int:member_id>/", views.member, name="member"),
]

# `login` and `logout` stay un-namespaced: settings.LOGIN_URL and django-axes use the names.
urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include((account_patterns, "accounts"))),
]
