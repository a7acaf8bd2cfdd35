"""The audit log for coordinators and admins: a filtered table, newest first, and the same filter as CSV.

Reading the log is itself a read of personal data (it names accounts, and reasons are free text), so each
page shown is recorded (VIEW_AUDIT_LOG) and each download (EXPORT_AUDIT_LOG), with the filter as the reason
(NEN 7513: who looked, when, at what). A page's own row is written after it was read: it shows up next time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, redirect, render_template, request, stream_with_context, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..audit import AuditAction, record
from ..edge import committing
from ..permissions import require_page
from . import audit_csv, audit_log, audit_view
from .audit_forms import AuditFilterForm
from .blueprint import bp, section

section(
    "admin.audit_log",
    _l("Audit log"),
    _l("Who did what, when and why; who looked up what. Filter and download."),
    "read_audit_log",
)


def _filter_form():
    """The filter from the address, checked; (form, filter or None when the form has an error)."""
    form = AuditFilterForm(formdata=request.args)
    form.fill_choices()
    if not form.validate():
        return form, None
    return form, form.to_filter(current_user.timezone)


@bp.route("/audit", endpoint="audit_log")
@login_required
def audit_log_page():
    viewer = require_page(current_user, "read_audit_log")
    form, audit_filter = _filter_form()
    before = request.args.get("before", type=int)
    page = audit_log.Page([], None)
    if audit_filter is not None:
        page = audit_log.page(audit_filter, before)
        reason = audit_filter.summary() + (f"; older than #{before}" if before else "")
        with committing():
            record(
                viewer, AuditAction.VIEW_AUDIT_LOG, "audit_log", "page", group_id=audit_filter.group_id, reason=reason
            )
    # The filter as the next and first page links carry it (what is left empty or "all groups" left out).
    query = {key: value for key, value in request.args.items() if key != "before" and value and value != "0"}
    return render_template(
        "admin/audit.html",
        form=form,
        page=page,
        paged=before is not None,
        query=query,
        view=audit_view,
    ), 200 if audit_filter is not None else 400


@bp.route("/audit.csv", endpoint="audit_log_csv")
@login_required
def audit_log_csv():
    viewer = require_page(current_user, "read_audit_log")
    _form, audit_filter = _filter_form()
    if audit_filter is None:  # the page says what is wrong with the filter
        return redirect(url_for("admin.audit_log", **request.args))
    upper = audit_log.newest_id()
    with committing():
        record(
            viewer,
            AuditAction.EXPORT_AUDIT_LOG,
            "audit_log",
            upper,
            group_id=audit_filter.group_id,
            reason=f"{audit_filter.summary()}; up to #{upper}",
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    response = Response(stream_with_context(audit_csv.lines(audit_filter, upper)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
