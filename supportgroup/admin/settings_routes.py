"""The console's platform settings (admins): quick exit's address, the crisis resources per language, two-factor
sign-in for peer experts. Load, authorize (`change_settings`), act (`admin/settings.py`), commit once.

The partner organisations stay where coordinators have always kept them (`/groups/organisations`); the console's
start page links them too.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from .. import platform_settings
from ..edge import committing
from ..errors import DomainError, show_on_form
from ..permissions import require_page
from ..realtime.rooms import disconnect_user
from ..safety import resources
from . import settings
from .blueprint import bp, section
from .settings_forms import BLANK_ROWS, CrisisResourcesForm, QuickExitForm, TwoFactorForm

section(
    "admin.platform_settings",
    _l("Platform settings"),
    _l("Quick exit's address, the helplines per language, two-factor sign-in for peer experts."),
    "change_settings",
)
section(
    "groups.organisations",
    _l("Organisations"),
    _l("The partner organisations that refer participants: add, rename, remove."),
    "manage_organisations",
)


def _overview(quick_exit: QuickExitForm | None = None, two_factor: TwoFactorForm | None = None, status: int = 200):
    if quick_exit is None:
        quick_exit = QuickExitForm(prefix="exit", data={"url": platform_settings.get(settings.QUICK_EXIT_URL)})
    if two_factor is None:
        two_factor = TwoFactorForm(
            prefix="twofactor", data={"required": bool(platform_settings.get(settings.TWO_FACTOR_PEER_EXPERTS))}
        )
    versions = settings.crisis_versions()
    return (
        render_template(
            "admin/settings.html",
            quick_exit=quick_exit,
            two_factor=two_factor,
            states=settings.states(),
            default_exit_url=platform_settings.default(settings.QUICK_EXIT_URL),
            default_two_factor=bool(platform_settings.default(settings.TWO_FACTOR_PEER_EXPERTS)),
            languages=current_app.config["LANGUAGES"],
            changed_languages={code for code in versions if code in current_app.config["LANGUAGES"]},
        ),
        status,
    )


def _end_sockets(user_ids: list[int]) -> None:
    """After the commit: the sockets of peer experts who must now give a second factor (in every process)."""
    for user_id in user_ids:
        disconnect_user(user_id)


@bp.route("/settings", endpoint="platform_settings")
@login_required
def settings_page():
    require_page(current_user, "change_settings")
    return _overview()


@bp.route("/settings/quick-exit", methods=["POST"])
@login_required
def quick_exit():
    require_page(current_user, "change_settings")
    form = QuickExitForm(prefix="exit")
    if form.validate_on_submit():
        try:
            with committing():
                settings.set_quick_exit_url(form.url.data or "", current_user)
        except DomainError as error:
            show_on_form(form, error)
        else:
            flash(_("Quick exit now goes to the new address, on every page."), "success")
            return redirect(url_for("admin.platform_settings"))
    return _overview(quick_exit=form, status=400)


@bp.route("/settings/two-factor", methods=["POST"])
@login_required
def two_factor_setting():
    require_page(current_user, "change_settings")
    form = TwoFactorForm(prefix="twofactor")
    if not form.validate_on_submit():
        return _overview(two_factor=form, status=400)
    with committing():
        now_asked = settings.set_two_factor_for_peer_experts(form.required.data, current_user)
    _end_sockets(now_asked)
    flash(_("The setting for two-factor sign-in has been saved."), "success")
    return redirect(url_for("admin.platform_settings"))


@bp.route("/settings/<name>/default", methods=["POST"])
@login_required
def to_default(name: str):
    require_page(current_user, "change_settings")
    if name not in settings.RESETTABLE:
        abort(404)
    if FlaskForm().validate_on_submit():
        with committing():
            now_asked = settings.back_to_default(name, current_user)
        _end_sockets(now_asked)
        flash(_("The setting uses the default again."), "success")
    return redirect(url_for("admin.platform_settings"))


def _language_or_404(locale: str) -> str:
    if locale not in current_app.config["LANGUAGES"]:
        abort(404)
    return locale


@bp.route("/settings/crisis/<locale>", methods=["GET", "POST"])
@login_required
def crisis_resources(locale: str):
    require_page(current_user, "change_settings")
    locale = _language_or_404(locale)
    stored = settings.crisis_versions().get(locale)
    usable = resources.from_storage(locale, stored) if stored is not None else None
    current = usable or resources.from_file(locale)
    form = CrisisResourcesForm(
        data={
            "intro": current["intro"],
            "what_happens": current["what_happens"],
            "resources": [*current["resources"], *[{}] * BLANK_ROWS][: resources.MAX_RESOURCES + BLANK_ROWS],
        }
    )
    if form.validate_on_submit():
        try:
            with committing():
                settings.set_crisis_resources(locale, form.to_data(), current_user)
        except resources.InvalidResources as error:
            form.show_problems(error.problems)
        else:
            flash(_("The helplines have been saved. Every page shows them now."), "success")
            return redirect(url_for("admin.crisis_resources", locale=locale))
    elif form.is_submitted():
        try:  # every problem at once, not only the form's own
            resources.validate(form.to_data())
        except resources.InvalidResources as error:
            form.show_problems(error.problems)
    return render_template(
        "admin/crisis_resources.html",
        form=form,
        locale=locale,
        # The row holds every language: "changed" (and by whom, when) only for a language it has.
        state=settings.states()[settings.CRISIS_RESOURCES] if stored is not None else settings.SettingState(False),
        stored_is_broken=stored is not None and usable is None,
    ), 400 if form.errors or form.form_errors else 200


@bp.route("/settings/crisis/<locale>/file", methods=["POST"])
@login_required
def crisis_to_file(locale: str):
    require_page(current_user, "change_settings")
    locale = _language_or_404(locale)
    if FlaskForm().validate_on_submit():
        with committing():
            settings.crisis_resources_to_file(locale, current_user)
        flash(_("The helplines come from the file again."), "success")
    return redirect(url_for("admin.crisis_resources", locale=locale))
