"""The advisors' console: a Sanic blueprint mounted at /console by the web app (`web.app`).

Access rules, each enforced here on every request (never by hiding a link):
- every page but the login form and the iCalendar feed needs a signed session (`web.sessions`: HttpOnly,
  SameSite=Strict cookie, 8 h, voided by logout or a password change) of an *active* advisor (`@login_required`);
- an advisor sees and acts on their own calls only; a supervisor on everybody's; anything else is a 404
  (the same answer as a call that does not exist, so ids cannot be probed);
- a transcript is shown only for a conversation behind a call the advisor may see;
- every POST carries the session's CSRF token (`@advisor_form`, or `csrf_protected` for the login form);
- failed logins slow down per account *and* address (growing delays, never a lock a stranger can trigger, see
  hortense.appointments.advisors) and are limited per address whatever the account (shared by the instances
  through Redis when it is configured, `hortense.security.rate_limit`);
- the feed `/console/ical/<token>.ics` needs no login: its token is secret, stored hashed and revocable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from hortense import clock
from hortense.analytics import charts as analytics_charts
from hortense.analytics import figures as analytics
from hortense.appointments import calls as desk
from hortense.appointments.advisors import (
    advisor_for_feed_token,
    attempt_login,
    end_sessions,
    get_advisor,
    issue_feed_token,
    revoke_feed_token,
)
from hortense.appointments.booking import (
    ConsoleCall,
    advisor_cancel,
    call_for_advisor,
    calls_for_day,
)
from hortense.appointments.calendar.phrases import PARIS
from hortense.appointments.icalendar_feed import build_feed
from hortense.conversations import store as conversations
from hortense.db.calendar_models import STATUS_BOOKED, STATUS_CANCELLED, STATUS_DONE, STATUS_MISSED
from hortense.db.session import session_scope
from hortense.privacy import audit as privacy_audit
from hortense.review import inbox as review
from hortense.security.rate_limit import RateLimit, client_address, whole_seconds
from hortense.settings import get_settings
from web import console_pages as pages
from web.sessions import ConsoleSessions, Handler

logger = logging.getLogger(__name__)

bp = Blueprint("console", url_prefix="/console")

HERE = Path(__file__).resolve().parent
IP_FAILURE_LIMIT = 20
IP_FAILURE_WINDOW = 15 * 60
TRANSCRIPT_LIMIT = 300


def now() -> datetime:
    """The console's clock (tests replace it)."""
    return clock.now()


bp.middleware("response")(pages.security_headers)


# --------------------------------------------------------------------------- sessions and limits

sessions = ConsoleSessions(clock=lambda: now().timestamp(), login_url="/console/login")
login_required = sessions.login_required

# Failed logins per client address, across instances when Redis is configured (the per-account-and-address
# delays are in hortense.appointments.advisors).
address_limiter = RateLimit("console-login-address", IP_FAILURE_LIMIT, IP_FAILURE_WINDOW)


def _refused(request: Request) -> HTTPResponse:
    """A signed-in advisor's form without the session's token."""
    return pages.answer(request, "Action refusée", "Jeton de sécurité manquant ou invalide.", 403)


def _login_expired(_request: Request) -> HTTPResponse:
    return pages.message("Session expirée", "Rechargez la page de connexion et réessayez.", 403)


csrf_protected = sessions.csrf_protected(_refused)


def advisor_form(handler: Handler) -> Handler:
    """Every POST of a signed-in advisor: signed in first (a stranger goes to the log-in page), then the
    session's CSRF token."""
    return login_required(csrf_protected(handler))


# --------------------------------------------------------------------------- transcripts


def audit_actor(request: Request) -> str:
    """The signed-in advisor as the privacy audit names them."""
    advisor = request.ctx.advisor
    return privacy_audit.advisor_actor(advisor.id, advisor.name)


def _audit_view(request: Request, action: str, customer_number: str | None, detail: str) -> None:
    """GDPR: every view of conversations is audited (who, when, which conversations)."""
    with session_scope() as db:
        privacy_audit.record(
            db, actor=audit_actor(request), action=action, customer_number=customer_number, detail=detail, now=now()
        )


def tracker_url() -> str | None:
    """Rasa's SQL tracker store: HORTENSE_TRACKER_URL (PostgreSQL) or HORTENSE_TRACKER_DB (SQLite file)."""
    return get_settings().tracker_url


def read_transcript(sender_id: str, limit: int = TRANSCRIPT_LIMIT) -> list[conversations.Line] | None:
    """The last `limit` user and bot messages of a conversation, oldest first; None if the store is unreadable
    (the page then says the conversation is unavailable)."""
    url = tracker_url()
    if url is None:
        return None
    try:
        return conversations.transcript(url, sender_id, limit)
    except conversations.TrackerUnavailable:
        return None


# --------------------------------------------------------------------------- pages


def _day_from(request: Request) -> date:
    raw = request.args.get("day") if request.args else None
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    return now().astimezone(PARIS).date()


def _calls_url(day: date) -> str:
    return f"/console/calls?day={day.isoformat()}"


@bp.get("/", strict_slashes=False)
async def home(request: Request) -> HTTPResponse:
    _, advisor = sessions.signed_in(request)
    return response.redirect("/console/calls" if advisor else "/console/login", status=303)


@bp.get("/login")
async def login_form(request: Request) -> HTTPResponse:
    s, advisor = sessions.signed_in(request)
    if advisor:
        return response.redirect("/console/calls", status=303)
    s = s if s and s.advisor_id is None else sessions.new()
    return sessions.write(pages.page("login.html", csrf=sessions.csrf(s), error=None, email=""), request, s)


@bp.post("/login")
@sessions.csrf_protected(_login_expired)
async def login(request: Request) -> HTTPResponse:
    csrf = request.ctx.csrf
    email = (request.form.get("email") or "").strip()[:200]
    password = (request.form.get("password") or "")[:200]
    address = client_address(request)
    if address_limiter.blocked(address):
        return pages.page(
            "login.html",
            status=429,
            csrf=csrf,
            email=email,
            error="Trop de tentatives. Réessayez dans quelques minutes.",
        )
    with session_scope() as db:
        attempt = attempt_login(db, email, password, address)
    advisor = attempt.advisor
    if attempt.retry_after > 0:
        seconds = whole_seconds(attempt.retry_after)
        page = pages.page(
            "login.html",
            status=429,
            csrf=csrf,
            email=email,
            error=f"Trop de tentatives pour ce compte. Réessayez dans {seconds} seconde{'s' if seconds > 1 else ''}.",
        )
        page.headers["Retry-After"] = str(seconds)
        return page
    if advisor is None:
        address_limiter.record(address)
        return pages.page(
            "login.html", status=401, csrf=csrf, email=email, error="Adresse e-mail ou mot de passe incorrect."
        )
    fresh = sessions.new(advisor)  # a new nonce at login: a session fixed before login is useless
    return sessions.write(response.redirect("/console/calls", status=303), request, fresh)


@bp.post("/logout")
@advisor_form
async def logout(request: Request) -> HTTPResponse:
    with session_scope() as db:
        end_sessions(db, request.ctx.advisor.id, now())
    return sessions.write(response.redirect("/console/login", status=303), request, sessions.new())


@dataclass(frozen=True)
class AdvisorFilter:
    """A supervisor's filter on one advisor: by `?advisor=<id>` (links, the pages' own URLs) or by name,
    `?who=<text>` (the form: one advisor found filters on them, several are listed to choose from). Never a list
    of the whole team: the page stays the same size with 3 advisors or 200. Ignored for an advisor."""

    shown: bool = False  # a supervisor: the form is shown
    only: int | None = None
    name: str = ""  # the filtered advisor's name, or the text typed
    matches: tuple[tuple[int, str], ...] = ()  # several advisors matched the text typed
    unmatched: bool = False  # nobody matched the text typed


def _advisor_filter(request: Request, db: Session) -> AdvisorFilter:
    if not request.ctx.advisor.is_supervisor:
        return AdvisorFilter()
    args = request.args or {}
    advisor_id = _row_id(args.get("advisor"))
    who = " ".join((args.get("who") or "").split())[:100]
    if advisor_id is not None:
        name = desk.advisor_name(db, advisor_id)
        return AdvisorFilter(True, advisor_id, name or f"n° {advisor_id}")
    if not who:
        return AdvisorFilter(True)
    found = desk.find_advisors(db, who)
    if len(found) == 1:
        return AdvisorFilter(True, found[0][0], found[0][1])
    return AdvisorFilter(True, None, who, tuple(found), unmatched=not found)


def _scope(request: Request, db: Session) -> tuple[desk.Scope, AdvisorFilter]:
    """The calls this user sees: their own (an advisor), everybody's or one advisor's (a supervisor); read in
    the page's own session."""
    advisor = request.ctx.advisor
    chosen = _advisor_filter(request, db)
    return desk.Scope.of(advisor.id, advisor.is_supervisor, chosen.only), chosen


def _cursor(request: Request) -> int | None:
    return _row_id(request.args.get("after") if request.args else None)


def _row_id(raw: str | None) -> int | None:
    """A row id from a query parameter, or None: digits only, and small enough for an INTEGER column (a longer
    number would make PostgreSQL fail the query instead of finding nothing)."""
    return int(raw) if raw and raw.isdigit() and len(raw) <= 9 else None


@bp.get("/calls")
@login_required
async def calls(request: Request) -> HTTPResponse:
    """'À venir' (the next calls across days, and those waiting for an outcome); `?day=` shows one day."""
    if not (request.args and request.args.get("day")):
        return await upcoming(request)
    return await one_day(request)


async def upcoming(request: Request) -> HTTPResponse:
    after = _cursor(request)
    current = now()
    with session_scope() as db:
        scope, chosen = _scope(request, db)
        to_close = desk.awaiting_outcome(db, scope, current) if after is None else []
        coming = desk.upcoming(db, scope, current, after=after)
    by_day: dict[date, list[ConsoleCall]] = {}
    for call in coming.calls:
        by_day.setdefault(call.start.date(), []).append(call)
    return pages.advisor_page(
        request,
        "upcoming.html",
        to_close=to_close,
        by_day=by_day,
        chosen=chosen,
        only=chosen.only,
        first_page=after is None,
        next_url=_page_url(coming.next_after, chosen.only) if coming.next_after else None,
        first_url=_page_url(None, chosen.only),
        today=current.astimezone(PARIS).date(),
    )


def _page_url(after: int | None, only: int | None) -> str:
    """A page of 'À venir' (the same advisor's filter)."""
    query = urlencode({k: v for k, v in (("advisor", only), ("after", after)) if v is not None})
    return f"/console/calls?{query}" if query else "/console/calls"


async def one_day(request: Request) -> HTTPResponse:
    advisor = request.ctx.advisor
    day = _day_from(request)
    with session_scope() as db:
        rows = calls_for_day(db, advisor_id=None if advisor.is_supervisor else advisor.id, day=day)
    current = now()
    return pages.advisor_page(
        request,
        "calls.html",
        day=day,
        calls=rows,
        now=current,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        today=current.astimezone(PARIS).date(),
        can_mark=lambda c: c.status != STATUS_CANCELLED and c.start <= current,
        can_cancel=lambda c: c.status == STATUS_BOOKED and c.end > current,
        STATUS_DONE=STATUS_DONE,
        STATUS_MISSED=STATUS_MISSED,
    )


@bp.get("/calls/week")
@login_required
async def week(request: Request) -> HTTPResponse:
    day = _day_from(request)
    with session_scope() as db:
        scope, chosen = _scope(request, db)
        days = desk.week(db, scope, day)
    monday = days[0].day
    return pages.advisor_page(
        request,
        "week.html",
        days=days,
        monday=monday,
        previous=monday - timedelta(days=7),
        next=monday + timedelta(days=7),
        chosen=chosen,
        only=chosen.only,
        today=now().astimezone(PARIS).date(),
    )


@bp.get("/search")
@login_required
async def search(request: Request) -> HTTPResponse:
    query = " ".join(((request.args.get("q") if request.args else None) or "").split())[:100]
    with session_scope() as db:
        scope, _ = _scope(request, db)
        found = desk.search(db, scope, query) if query else []
    return pages.advisor_page(request, "search.html", query=query, calls=found, search_query=query)


def _not_found(request: Request) -> HTTPResponse:
    return pages.answer(request, "Appel introuvable", "Cet appel n'existe pas ou ne vous est pas attribué.", 404)


def visible_call(handler: Handler) -> Handler:
    """Route decorator (under `login_required`): the call of the URL on `request.ctx.call` if this advisor may
    see it; else 404, the same answer as for a call that does not exist, so ids cannot be probed."""

    @wraps(handler)
    async def visible_only(request: Request, appointment_id: int) -> HTTPResponse:
        advisor = request.ctx.advisor
        with session_scope() as db:
            request.ctx.call = call_for_advisor(
                db, advisor_id=advisor.id, appointment_id=appointment_id, is_supervisor=advisor.is_supervisor
            )
        if request.ctx.call is None:
            return _not_found(request)
        return await handler(request, appointment_id)

    return visible_only


def supervisor_only(handler: Handler) -> Handler:
    """Route decorator (under `login_required`): supervisors only; an advisor gets the same 404 as a wrong URL."""

    @wraps(handler)
    async def supervisors(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        if not request.ctx.advisor.is_supervisor:
            return pages.answer(request, "Page introuvable", "Cette page n'existe pas.", 404)
        return await handler(request, *args, **kwargs)

    return supervisors


def _act_on_call(request: Request, impossible: str, act: Callable[[Any], bool]) -> HTTPResponse:
    """`act(db)` on the URL's call: back to the call's day when it did something, else 409 saying why not."""
    with session_scope() as db:
        done = act(db)
    if not done:
        return pages.answer(request, "Action impossible", impossible, 409)
    return response.redirect(_calls_url(request.ctx.call.start.date()), status=303)


def _back(request: Request) -> str:
    """Where a call's form returns: the call's page when it was sent from there, else the call's day."""
    call = request.ctx.call
    if request.form.get("back") == "call":
        return f"/console/calls/{call.id}"
    return _calls_url(call.start.date())


def _acting_on(request: Request, appointment_id: int) -> dict[str, Any]:
    """Who acts on which call, and when, as the desk's actions on a call take it (a supervisor may act on any)."""
    advisor = request.ctx.advisor
    return {
        "advisor_id": advisor.id,
        "is_supervisor": advisor.is_supervisor,
        "appointment_id": appointment_id,
        "now": now(),
    }


@bp.post("/calls/<appointment_id:int>/status")
@advisor_form
@visible_call
async def mark(request: Request, appointment_id: int) -> HTTPResponse:
    status = request.form.get("status")
    if status not in (STATUS_DONE, STATUS_MISSED):
        return pages.answer(request, "Action refusée", "Statut inconnu.", 400)
    note = desk.clean_note(request.form.get("note"))
    with session_scope() as db:
        done = desk.record_outcome(db, outcome=status, note=note, **_acting_on(request, appointment_id))
    if not done:
        return pages.answer(request, "Action impossible", "Cet appel ne peut pas (encore) être marqué ainsi.", 409)
    return response.redirect(_back(request), status=303)


RESCHEDULE_ERRORS = {
    desk.ERROR_NOT_BOOKABLE: "Ce créneau n'est pas proposable (jours ouvrés 9h-18h, au moins 2 heures à l'avance, "
    "au plus 3 semaines).",
    desk.ERROR_SLOT_TAKEN: "Aucun conseiller n'est libre sur ce créneau : choisissez-en un autre.",
    desk.ERROR_ALREADY_BOOKED: "Le client a déjà un autre appel à venir.",
    desk.ERROR_NOT_FOUND: "Cet appel ne peut plus être reporté.",
}


@bp.post("/calls/<appointment_id:int>/reschedule")
@advisor_form
@visible_call
async def reschedule(request: Request, appointment_id: int) -> HTTPResponse:
    try:
        day = date.fromisoformat(request.form.get("day") or "")
        at = time.fromisoformat(request.form.get("time") or "")
    except ValueError:
        return pages.answer(request, "Date invalide", "Indiquez le jour et l'heure du nouvel appel.", 400)
    with session_scope() as db:
        result = desk.reschedule_by_advisor(
            db,
            new_start=datetime.combine(day, at, tzinfo=PARIS),
            note=request.form.get("note") or "",
            **_acting_on(request, appointment_id),
        )
    if not result.ok:
        return pages.answer(
            request, "Report impossible", RESCHEDULE_ERRORS.get(result.error or "", "Report impossible."), 409
        )
    return response.redirect(f"/console/calls/{appointment_id}", status=303)


@bp.post("/calls/<appointment_id:int>/cancel")
@advisor_form
@visible_call
async def cancel(request: Request, appointment_id: int) -> HTTPResponse:
    reason = " ".join((request.form.get("reason") or "").split())[:500]
    if not reason:
        return pages.answer(
            request, "Motif requis", "Indiquez le motif de l'annulation : il sera transmis au client.", 400
        )
    return _act_on_call(
        request,
        "Cet appel n'est plus annulable.",
        lambda db: advisor_cancel(
            db, advisor_id=request.ctx.advisor.id, appointment_id=appointment_id, reason=reason, now=now()
        ),
    )


SLOT_TIMES = [time(h, m) for h in range(9, 18) for m in (0, 30)]


@bp.get("/calls/<appointment_id:int>")
@login_required
@visible_call
async def call_page(request: Request, appointment_id: int) -> HTTPResponse:
    call: ConsoleCall = request.ctx.call
    advisor = request.ctx.advisor
    current = now()
    with session_scope() as db:
        history = desk.history(db, call.customer_id)
    notes = next((h.notes for h in history if h.call.id == call.id), ())
    earlier = [h for h in history if h.call.id != call.id]
    return pages.advisor_page(
        request,
        "call.html",
        call=call,
        notes=notes,
        earlier=earlier,
        can_mark=call.status != STATUS_CANCELLED and call.start <= current,
        can_reschedule=call.status in (STATUS_BOOKED, STATUS_MISSED),
        can_cancel=call.status == STATUS_BOOKED and call.end > current,
        may_open=lambda c: advisor.is_supervisor or c.advisor_id == advisor.id,
        slot_times=SLOT_TIMES,
        tomorrow=(current.astimezone(PARIS) + timedelta(days=1)).date(),
        STATUS_DONE=STATUS_DONE,
        STATUS_MISSED=STATUS_MISSED,
    )


@bp.get("/calls/<appointment_id:int>/transcript")
@login_required
@visible_call
async def transcript(request: Request, appointment_id: int) -> HTTPResponse:
    call: ConsoleCall = request.ctx.call
    _audit_view(
        request, privacy_audit.TRANSCRIPT_VIEW, call.customer_number, f"appel {call.id}, conversation {call.sender_id}"
    )
    return pages.advisor_page(request, "transcript.html", call=call, lines=read_transcript(call.sender_id))


@bp.get("/agenda")
@login_required
async def agenda(request: Request) -> HTTPResponse:
    return pages.advisor_page(request, "agenda.html", feed_url=None)


@bp.post("/agenda/new")
@advisor_form
async def agenda_new(request: Request) -> HTTPResponse:
    advisor = request.ctx.advisor
    with session_scope() as db:
        token = issue_feed_token(db, advisor.id, now())
        advisor = get_advisor(db, advisor.id) or advisor
    feed_url = f"{get_settings().web_base_url}/console/ical/{token}.ics"
    return pages.advisor_page(request, "agenda.html", feed_url=feed_url)


@bp.post("/agenda/revoke")
@advisor_form
async def agenda_revoke(request: Request) -> HTTPResponse:
    with session_scope() as db:
        revoke_feed_token(db, request.ctx.advisor.id, now())
    return response.redirect("/console/agenda", status=303)


@bp.get("/ical/<filename:str>")
async def ical_feed(_request: Request, filename: str) -> HTTPResponse:
    if not filename.endswith(".ics"):
        return response.text("Not found", status=404)
    with session_scope() as db:
        advisor = advisor_for_feed_token(db, filename[: -len(".ics")])
        body = build_feed(db, advisor.id, now()) if advisor else None
    if body is None:
        return response.text("Not found", status=404)
    return response.raw(body, content_type="text/calendar; charset=utf-8")


@bp.get("/static/console.css")
async def stylesheet(_request: Request) -> HTTPResponse:
    return await response.file(
        HERE / "static" / "console.css", mime_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


# --------------------------------------------------------------------------- conversation review (supervisors)


@bp.get("/review")
@login_required
@supervisor_only
async def review_inbox(request: Request) -> HTTPResponse:
    show = review.SHOW_DONE if request.args and request.args.get("show") == review.SHOW_DONE else review.SHOW_TODO
    url = tracker_url()
    items, contexts, unavailable = [], {}, url is None
    if url is not None:
        try:
            with session_scope() as db:
                items = review.inbox(db, url, threshold=get_settings().review_confidence, now=now(), show=show)
            contexts = {
                i.message.event_id: conversations.lines_around(url, i.message.sender_id, i.message.event_id)
                for i in items
            }
            if items:  # the inbox shows excerpts of conversations: audited like a transcript view
                senders = len({i.message.sender_id for i in items})
                _audit_view(
                    request, privacy_audit.REVIEW_VIEW, None, f"{len(items)} message(s) de {senders} conversation(s)"
                )
        except conversations.TrackerUnavailable:
            unavailable = True
    return pages.advisor_page(
        request,
        "review.html",
        items=items,
        contexts=contexts,
        show=show,
        unavailable=unavailable,
        intents=review.catalogue(),
        threshold=get_settings().review_confidence,
    )


@bp.post("/review/label")
@advisor_form
@supervisor_only
async def review_label(request: Request) -> HTTPResponse:
    form = request.form
    sender_id, raw_event = (form.get("sender") or "")[:255], form.get("event") or ""
    kind, intent = form.get("kind") or "", (form.get("intent") or "").strip() or None
    url = tracker_url()
    if url is None or not raw_event.isdigit():
        return pages.answer(request, "Message introuvable", "Ce message n'est pas dans la boîte de revue.", 404)
    try:
        message = review.find_message(
            url, sender_id, int(raw_event), threshold=get_settings().review_confidence, now=now()
        )
    except conversations.TrackerUnavailable:
        return pages.answer(request, "Historique indisponible", "L'historique des conversations est inaccessible.", 503)
    if message is None:
        return pages.answer(request, "Message introuvable", "Ce message n'est pas dans la boîte de revue.", 404)
    with session_scope() as db:
        stored = review.label_message(
            db,
            message,
            advisor_id=request.ctx.advisor.id,
            kind=kind,
            intent=intent,
            now=now(),
            intents=review.catalogue(),
        )
    if not stored:
        return pages.answer(
            request, "Étiquette refusée", "Choisissez une intention du catalogue, « hors sujet » ou « ignorer ».", 400
        )
    return response.redirect(f"/console/review#m-{int(raw_event)}", status=303)


# --------------------------------------------------------------------------- analytics (supervisors)


def _report_params(request: Request) -> tuple[str, date, date, str]:
    args = request.args or {}
    granularity = str(args.get("granularity") or "")
    granularity = granularity if granularity in analytics.GRANULARITIES else analytics.DAY
    first, last = analytics.default_range(granularity, now().astimezone(PARIS).date())
    try:
        first = date.fromisoformat(args.get("first") or "") if args.get("first") else first
        last = date.fromisoformat(args.get("last") or "") if args.get("last") else last
    except ValueError:
        pass
    if last < first:
        first, last = last, first
    channel = str(args.get("channel") or "").strip()[:40]
    return granularity, first, last, channel


def _report(request: Request) -> tuple[analytics.Report | None, str]:
    granularity, first, last, channel = _report_params(request)
    query = urlencode(
        {"granularity": granularity, "first": first.isoformat(), "last": last.isoformat(), "channel": channel}
    )
    try:
        with session_scope() as db:
            return analytics.compute(
                db, tracker_url(), first=first, last=last, granularity=granularity, channel=channel
            ), query
    except conversations.TrackerUnavailable:
        return None, query


@bp.get("/analytics")
@login_required
@supervisor_only
async def analytics_page(request: Request) -> HTTPResponse:
    report, query = _report(request)
    granularity, first, last, channel = _report_params(request)
    return pages.advisor_page(
        request,
        "analytics.html",
        report=report,
        query=query,
        granularity=granularity,
        first=first,
        last=last,
        channel=channel,
    )


@bp.get("/analytics.csv")
@login_required
@supervisor_only
async def analytics_csv(request: Request) -> HTTPResponse:
    report, _ = _report(request)
    if report is None:
        return pages.answer(request, "Historique indisponible", "L'historique des conversations est inaccessible.", 503)
    name = f"hortense-statistiques-{report.first.isoformat()}-{report.last.isoformat()}.csv"
    return response.text(
        analytics.to_csv(report),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/analytics/chart/<filename:str>")
@login_required
@supervisor_only
async def analytics_chart(request: Request, filename: str) -> HTTPResponse:
    chart = filename.removesuffix(".png")
    if not filename.endswith(".png") or chart not in analytics_charts.CHARTS:
        return response.text("Not found", status=404)
    report, _ = _report(request)
    if report is None:
        return response.text("Tracker store unavailable", status=503)
    return response.raw(analytics_charts.draw(report, chart), content_type="image/png")
