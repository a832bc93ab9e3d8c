"""French wording about customers' data: the retention period, the widget's notice, the privacy audit's actions,
and the reports of the retention job, of an erasure and of an export (console, CLI and privacy audit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hortense.privacy import audit
from hortense.privacy.notice import retention_days

if TYPE_CHECKING:
    from hortense.privacy.retention import RetentionReport
    from hortense.privacy.rights import ErasureReport


AUDIT_LABELS = {
    audit.TRANSCRIPT_VIEW: "Consultation d'une conversation",
    audit.REVIEW_VIEW: "Consultation de la revue des messages",
    audit.EXPORT: "Export des données",
    audit.ERASE: "Effacement des données",
    audit.CUSTOMER_DOWNLOAD: "Téléchargement par le client",
    audit.RETENTION: "Purge de conservation",
}


def retention_label(days: int | None = None) -> str:
    """'6 mois' for 180 days, '1 an' for 365, else 'N jours'."""
    days = retention_days() if days is None else days
    if days in (180, 181, 182, 183, 184):
        return "6 mois"
    if days in (365, 366):
        return "1 an"
    return "1 jour" if days == 1 else f"{days} jours"


def notice_text() -> str:
    """The short notice the chat widget shows before the first message (the widget adds the policy link)."""
    return (
        f"Vos échanges avec Hortense sont enregistrés pour vous répondre et améliorer le service, puis effacés "
        f"au bout de {retention_label()}. Ne donnez jamais d'IBAN, de numéro de carte ni de mot de passe ici."
    )


def retention_report(report: RetentionReport) -> str:
    tracker = (
        "historique des conversations inaccessible"
        if report.tracker_unavailable
        else f"{report.events} événements de {report.conversations} conversation(s) supprimés"
    )
    return (
        f"avant le {report.cutoff.date().isoformat()} : {tracker}, {report.notifications} texte(s) de notification, "
        f"{report.appointments} rendez-vous et {report.call_notes} note(s) d'appel anonymisés, "
        f"{report.review_labels} message(s) de revue détachés de leur conversation"
    )


def erasure_report(report: ErasureReport) -> str:
    return (
        f"{report.events} événements de {report.conversations} conversation(s) supprimés, "
        f"{report.notifications} notification(s), {report.account_links} liaison(s) de messagerie, "
        f"{report.link_codes} code(s) de liaison, {report.review_labels} message(s) en revue, "
        f"{report.appointments} rendez-vous anonymisé(s) dont {report.cancelled_calls} annulé(s), "
        f"{report.call_notes} note(s) d'appel effacée(s), {report.sessions} session(s) fermée(s)"
    )


def export_detail(conversations: int, appointments: int) -> str:
    """The privacy audit's line for an export."""
    return f"{conversations} conversation(s), {appointments} rendez-vous"
