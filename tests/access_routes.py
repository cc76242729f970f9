"""The access matrix's table: every route, how to call it, and the answer each actor must get.

Shared by tests/test_access_matrix.py (statuses) and tests/e2e/test_every_page.py (accessibility
and HTML validity of every page a role may open).
"""
from __future__ import annotations

OK = "ok"
ACTORS = ("anon", "editor", "certifier", "other", "officer", "officer_b", "leader", "admin")
EMAILS = {"editor": "editor@demo.test", "certifier": "grantee@demo.test", "other": "other-grantee@demo.test",
          "officer": "officer@demo.test", "officer_b": "officer-b@demo.test", "leader": "leader@demo.test",
          "admin": "admin@demo.test"}


def row(anon=302, editor=403, certifier=403, other=403, officer=403, officer_b=403, leader=403, admin=403):
    return dict(anon=anon, editor=editor, certifier=certifier, other=other, officer=officer, officer_b=officer_b,
                leader=leader, admin=admin)


EVERYONE = row(editor=OK, certifier=OK, other=OK, officer=OK, officer_b=OK, leader=OK, admin=OK)
PUBLIC = row(anon=OK, editor=OK, certifier=OK, other=OK, officer=OK, officer_b=OK, leader=OK, admin=OK)
GRANTEE_PAGE = row(editor=OK, certifier=OK, other=404)           # grantee pages of the demo org's objects
CERTIFIER_ACTION = row(editor=403, certifier=OK, other=404)
READ_REPORT = row(editor=OK, certifier=OK, other=404, officer=OK, officer_b=OK, leader=OK)
OFFICER_PAGE = row(officer=OK, officer_b=OK)
REVIEW_ACTION = row(officer=OK, officer_b=403)
VIEWERS = row(officer=OK, officer_b=OK, leader=OK)
ADMIN = row(admin=OK)
OWN = row(editor=404, certifier=OK, other=404, officer=404, officer_b=404, leader=404, admin=404)

API = dict(anon=401)


def api(**cells):
    base = dict(anon=401, editor=OK, certifier=OK, other=OK, officer=OK, officer_b=OK, leader=OK, admin=OK)
    base.update(cells)
    return base


# endpoint -> (method, path template, expected per actor)
MATRIX: dict[str, tuple[str, str, dict]] = {
    "main.home": ("GET", "/", EVERYONE),
    "main.healthz": ("GET", "/healthz", PUBLIC),
    "auth.login": ("GET", "/login", PUBLIC),
    "auth.logout": ("POST", "/logout", PUBLIC),
    "auth.profile": ("GET", "/profile", EVERYONE),
    "auth.password": ("GET", "/profile/password", EVERYONE),
    "auth.password_forgot": ("GET", "/password/forgot", row(anon=OK, editor=302, certifier=302, other=302, officer=302,
                                                            officer_b=302, leader=302, admin=302)),
    "auth.password_reset": ("GET", "/password/reset/not-a-real-token", row(
        anon=400, editor=400, certifier=400, other=400, officer=400, officer_b=400, leader=400, admin=400)),
    "reports.report_list": ("GET", "/reports", row(editor=OK, certifier=OK, other=OK)),
    "reports.grant_view": ("GET", "/grants/{grant}", READ_REPORT),
    "reports.report_view": ("GET", "/reports/{report}", READ_REPORT),
    "reports.report_edit": ("POST", "/reports/{draft}/edit", GRANTEE_PAGE),
    "reports.report_submit": ("GET", "/reports/{draft}/submit", GRANTEE_PAGE),
    "reports.report_unsubmit": ("POST", "/reports/{report}/unsubmit", CERTIFIER_ACTION),
    "reviews.portfolio": ("GET", "/portfolio", OFFICER_PAGE),
    "reviews.report_review": ("GET", "/review/reports/{report}", OFFICER_PAGE),
    "reviews.report_accept": ("POST", "/review/reports/{report}/accept", REVIEW_ACTION),
    "reviews.report_return": ("POST", "/review/reports/{report}/return", REVIEW_ACTION),
    "reviews.report_remark": ("POST", "/review/reports/{report}/remarks", REVIEW_ACTION),
    "reviews.report_excuse": ("POST", "/review/reports/{report}/excuse", REVIEW_ACTION),
    "reviews.report_amend": ("GET", "/reports/{accepted}/amend", CERTIFIER_ACTION),
    "reviews.report_compare": ("GET", "/reports/{accepted}/compare?a=1&b=1", READ_REPORT),
    "extensions.extension_request": ("GET", "/reports/{draft}/extension", row(certifier=OK, other=404)),
    "extensions.extension_list": ("GET", "/extensions", row(officer=OK, officer_b=OK)),
    "extensions.extension_withdraw": ("POST", "/extensions/{extension}/withdraw", row(certifier=OK, other=404)),
    # Another officer of the program sees the request read-only (acting on it is refused).
    "extensions.extension_decide": ("GET", "/extensions/{extension}/decide", row(officer=OK, officer_b=OK)),
    "extensions.extension_decide#post": ("POST", "/extensions/{extension}/decide", row(officer=OK, officer_b=403)),
    "calendar.calendar_page": ("GET", "/calendar", row(editor=OK, certifier=OK, other=OK, officer=OK, officer_b=OK)),
    "calendar.calendar_feed_create": ("POST", "/calendar/feed",
                                      row(editor=OK, certifier=OK, other=OK, officer=OK, officer_b=OK)),
    "calendar.calendar_feed_off": ("POST", "/calendar/feed/off",
                                   row(editor=OK, certifier=OK, other=OK, officer=OK, officer_b=OK)),
    "calendar.calendar_feed": ("GET", "/calendar/feed/not-a-real-token.ics", row(
        anon=404, editor=404, certifier=404, other=404, officer=404, officer_b=404, leader=404, admin=404)),
    "notifications.notification_list": ("GET", "/notifications", EVERYONE),
    "notifications.notification_read": ("POST", "/notifications/{message}/read", OWN),
    "notifications.notification_read_all": ("POST", "/notifications/read-all", EVERYONE),
    "tokens.token_list": ("GET", "/profile/tokens", EVERYONE),
    "tokens.token_create": ("POST", "/profile/tokens", EVERYONE),
    "tokens.token_revoke": ("POST", "/profile/tokens/{token}/revoke", OWN),
    "spreadsheet.report_download": ("GET", "/reports/{draft}/workbook.xlsx", GRANTEE_PAGE),
    "spreadsheet.report_upload": ("GET", "/reports/{draft}/upload", GRANTEE_PAGE),
    "spreadsheet.upload_confirm": ("POST", "/reports/{draft}/upload/confirm", GRANTEE_PAGE),
    "rollups.dashboard": ("GET", "/dashboard", VIEWERS),
    "rollups.measures": ("GET", "/dashboard/measures", VIEWERS),
    "rollups.community_detail": ("GET", "/dashboard/communities/{community}", VIEWERS),
    "rollups.rollup_download": ("GET", "/dashboard/export.xlsx", VIEWERS),
    "admin.user_list": ("GET", "/admin/users", ADMIN),
    "admin.user_create": ("GET", "/admin/users/new", ADMIN),
    "admin.user_set_active": ("POST", "/admin/users/{user}/active", ADMIN),
    "admin.user_force_reset": ("POST", "/admin/users/{user}/reset-password", ADMIN),
    "admin.audit_list": ("GET", "/admin/audit", ADMIN),
    "awards.grant_list": ("GET", "/admin/grants", ADMIN),
    "awards.grant_create": ("GET", "/admin/grants/new", ADMIN),
    "awards.grant_edit": ("GET", "/admin/grants/{grant}", ADMIN),
    "awards.grant_delete": ("POST", "/admin/grants/{grant}/delete", ADMIN),  # refused: its reports were worked on
    "awards.grant_import": ("GET", "/admin/grants/import", ADMIN),
    "awards.grant_import_template": ("GET", "/admin/grants/import/template.xlsx", ADMIN),
    "awards.grant_import_confirm": ("POST", "/admin/grants/import/confirm", ADMIN),
    "awards.organization_list": ("GET", "/admin/organizations", ADMIN),
    "awards.organization_create": ("GET", "/admin/organizations/new", ADMIN),
    "awards.organization_edit": ("GET", "/admin/organizations/{organization}", ADMIN),
    "awards.organization_delete": ("POST", "/admin/organizations/{organization}/delete", ADMIN),  # refused: it has grants
    "awards.community_list": ("GET", "/admin/communities", ADMIN),
    "awards.community_create": ("GET", "/admin/communities/new", ADMIN),
    "awards.community_edit": ("GET", "/admin/communities/{community}", ADMIN),
    "awards.community_delete": ("POST", "/admin/communities/{community}/delete", ADMIN),  # refused: grants serve it
    "awards.officer_programs": ("GET", "/admin/users/{officer_user}/programs", ADMIN),
    "awards.officer_handover": ("GET", "/admin/users/{officer_user}/grants", ADMIN),
    "programs.program_list": ("GET", "/admin/programs", ADMIN),
    "programs.program_create": ("GET", "/admin/programs/new", ADMIN),
    "programs.program_edit": ("GET", "/admin/programs/{program}", ADMIN),
    "programs.measure_set_create": ("POST", "/admin/programs/{program}/measure-sets", ADMIN),
    "programs.measure_list": ("GET", "/admin/measures", ADMIN),
    "programs.measure_edit": ("GET", "/admin/measures/{measure}", ADMIN),
    "jobs.job_list": ("GET", "/admin/jobs", ADMIN),
    "jobs.job_run": ("POST", "/admin/jobs/open-periods/run", ADMIN),
    # The JSON API, with bearer tokens.
    "api-docs.openapi_json": ("GET", "/api/v1/openapi.json", {**api(), "anon": OK}),
    "api_catalog.program_list": ("GET", "/api/v1/programs", api()),
    "api_catalog.program_read": ("GET", "/api/v1/programs/YCCR", api()),
    "api_catalog.measure_list": ("GET", "/api/v1/measures", api()),
    "api_catalog.measure_read": ("GET", "/api/v1/measures/CLI-01", api()),
    "api_grants.grant_list": ("GET", "/api/v1/grants", api()),
    "api_grants.grant_read": ("GET", "/api/v1/grants/{grant}", api(other=404, admin=404)),
    "api_reports.report_list": ("GET", "/api/v1/reports", api()),
    "api_reports.report_read": ("GET", "/api/v1/reports/{report}", api(other=404, admin=404)),
    "api_reports.report_values_patch": ("PATCH", "/api/v1/reports/{draft}/values",
                                        api(other=404, officer=403, officer_b=403, leader=403, admin=404)),
    "api_reports.report_values_put": ("PUT", "/api/v1/reports/{draft}/values",
                                      api(other=404, officer=403, officer_b=403, leader=403, admin=404)),
    "api_reports.report_submit": ("POST", "/api/v1/reports/{draft}/submit",
                                  api(editor=403, other=404, officer=403, officer_b=403, leader=403, admin=403)),
    "api_reports.report_accept": ("POST", "/api/v1/reports/{report}/accept",
                                  api(editor=403, certifier=403, other=403, officer_b=403, leader=403, admin=403)),
    "api_reports.report_return": ("POST", "/api/v1/reports/{report}/return",
                                  api(editor=403, certifier=403, other=403, officer_b=403, leader=403, admin=403)),
    "api_rollups.rollup_read": ("GET", "/api/v1/rollups", api(editor=403, certifier=403, other=403, admin=403)),
}


# Well-formed bodies, so that the access checks (not body validation) decide the answer.
API_BODIES = {
    "api_reports.report_submit": {"certifier_name": "A", "certifier_title": "B", "certifier_phone": "1",
                                  "certifier_email": "a@b.test", "certify": True},
    "api_reports.report_return": {"remarks": "Please revise.", "revision_due_date": "2099-01-01"},
}


