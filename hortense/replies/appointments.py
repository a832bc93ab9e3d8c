"""French wording of the phone-appointment conversation (proposals, recap, confirmations)."""

from __future__ import annotations

from datetime import datetime

from hortense.replies import formatting as fr
from hortense.replies.common import Button, Reply, intent_payload

REASONS = {
    "past": "Ce moment est déjà passé ou trop proche : il faut réserver au moins 2 heures à l'avance.",
    "closed": "Nos conseillers appellent du lundi au vendredi, de 9h à 18h.",
    "too_far": "Les rendez-vous se prennent au plus 3 semaines à l'avance.",
    "full": "Il n'y a plus de place à ce moment-là.",
    "not_understood": "Je n'ai pas reconnu de date dans votre message.",
}

ASK_PREFERENCE = Reply(
    "Quand souhaitez-vous qu'un conseiller vous rappelle ? Par exemple « demain matin », « jeudi vers 14h » "
    "ou « le 3 décembre ».",
    (
        Button("Le plus tôt possible", "le premier créneau disponible"),
        Button("Demain matin", "demain matin"),
        Button("Demain après-midi", "demain après-midi"),
    ),
)


def phone_for_reading(e164: str | None) -> str:
    """+33612345678 -> '06 12 34 56 78'."""
    if not e164 or not e164.startswith("+33") or len(e164) != 12:
        return e164 or ""
    national = "0" + e164[3:]
    return " ".join(national[i : i + 2] for i in range(0, 10, 2))


def proposals(slots: tuple[datetime, ...], matched: bool, reason: str | None, holiday: str | None) -> Reply:
    """Up to 3 free slots as buttons; the button text is the slot itself, so typing it works too."""
    if not slots:
        return Reply(
            "Je ne trouve aucun créneau libre dans les 3 prochaines semaines, désolée. "
            "Vous pouvez appeler directement nos conseillers."
        )
    if matched:
        intro = "Voici les créneaux disponibles :" if len(slots) > 1 else "Voici le créneau disponible :"
    else:
        why = f"Ce jour-là est férié ({holiday})." if reason == "holiday" and holiday else REASONS.get(reason or "", "")
        intro = f"{why} Je vous propose plutôt :".strip()
    labels = [fr.slot_label(s) for s in slots]
    return Reply(
        f"{intro}\nChoisissez un créneau, ou indiquez-moi un autre moment.",
        tuple(Button(label.capitalize(), label) for label in labels),
    )


def ask_reason() -> Reply:
    return Reply("C'est noté. En quelques mots, quel est le motif de votre appel ?")


def ask_phone(on_file: str | None) -> Reply:
    if on_file:
        return Reply(
            f"Le conseiller vous appellera au {phone_for_reading(on_file)}. Est-ce le bon numéro ? "
            "Sinon, indiquez-moi le numéro à appeler.",
            (Button("Oui, ce numéro", intent_payload("affirm")),),
        )
    return Reply("À quel numéro le conseiller doit-il vous appeler ?")


def invalid_phone() -> Reply:
    return Reply("Ce numéro ne semble pas valide. Indiquez un numéro français, par exemple 06 12 34 56 78.")


def recap(start: datetime, phone: str, reason: str, previous: datetime | None = None) -> Reply:
    when = fr.slot_label(start)
    if previous is not None:
        text = (
            f"Je récapitule : je déplace votre appel du {fr.slot_label(previous)} au {when}, au "
            f"{phone_for_reading(phone)}. Je confirme ?"
        )
    else:
        text = (
            f"Je récapitule : un conseiller Hortense vous appelle le {when} au {phone_for_reading(phone)}, "
            f"motif : « {reason} ». Je confirme ?"
        )
    return Reply(text, (Button("Oui, je confirme", intent_payload("affirm")), Button("Non", intent_payload("deny"))))


def booked(start: datetime, phone: str) -> Reply:
    return Reply(
        f"C'est réservé : un conseiller Hortense vous appellera le {fr.slot_label(start)} au "
        f"{phone_for_reading(phone)}. Vous recevrez un rappel avant l'appel."
    )


def moved(start: datetime) -> Reply:
    return Reply(f"C'est fait : votre appel est déplacé au {fr.slot_label(start)}.")


def slot_taken(alternatives: tuple[datetime, ...]) -> Reply:
    reply = proposals(alternatives, True, None, None)
    return Reply("Ce créneau vient d'être réservé par quelqu'un d'autre, désolée. " + reply.text, reply.buttons)


def not_booked() -> Reply:
    return Reply("D'accord, je n'ai rien réservé. Puis-je vous aider pour autre chose ?")


def question_after_booking() -> Reply:
    """A question asked with a booking request by a customer with several sites: the form goes first."""
    return Reply(
        "Je note aussi votre question : posez-la-moi à nouveau après le rendez-vous, je vous demanderai pour quel site."
    )


def booking_after_site() -> Reply:
    """A call asked with a question by a customer with several sites: the site is chosen first."""
    return Reply("Pour le rendez-vous téléphonique, redemandez-le-moi dès que je vous ai répondu.")


def stopped() -> Reply:
    return Reply("D'accord, j'arrête la prise de rendez-vous. Puis-je vous aider pour autre chose ?")


def left() -> Reply:
    return Reply("D'accord, je n'ai rien réservé. Merci et bonne journée !")


def already_booked(start: datetime) -> Reply:
    return Reply(
        f"Vous avez déjà un appel prévu le {fr.slot_label(start)}. Voulez-vous le déplacer ?",
        (
            Button("Oui, le déplacer", intent_payload("reschedule_appointment")),
            Button("Non, le garder", intent_payload("deny")),
        ),
    )


def upcoming(start: datetime, phone: str, reason: str) -> Reply:
    return Reply(
        f"Votre rendez-vous : un conseiller Hortense vous appelle le {fr.slot_label(start)} au "
        f"{phone_for_reading(phone)} (motif : « {reason} »).",
        (
            Button("Le déplacer", intent_payload("reschedule_appointment")),
            Button("L'annuler", intent_payload("cancel_appointment")),
        ),
    )


def none_upcoming(action: str | None = None) -> Reply:
    text = "Vous n'avez pas de rendez-vous à venir."
    if action:
        text = f"Vous n'avez pas de rendez-vous à {action}."
    return Reply(
        text + " Voulez-vous en prendre un ?", (Button("Prendre rendez-vous", intent_payload("book_appointment")),)
    )


def confirm_cancel(start: datetime, other_day: bool = False) -> Reply:
    if other_day:
        return Reply(
            f"Votre appel prévu est le {fr.slot_label(start)}. Voulez-vous annuler cet appel ?",
            (Button("Oui, annuler", intent_payload("affirm")), Button("Non, le garder", intent_payload("deny"))),
        )
    return Reply(
        f"Voulez-vous annuler votre appel du {fr.slot_label(start)} ?",
        (Button("Oui, annuler", intent_payload("affirm")), Button("Non, le garder", intent_payload("deny"))),
    )


def cancelled(start: datetime) -> Reply:
    return Reply(
        f"C'est fait : votre appel du {fr.slot_label(start)} est annulé. Vous pouvez reprendre rendez-vous "
        "quand vous voulez."
    )


def kept() -> Reply:
    return Reply("Très bien, votre rendez-vous est maintenu.")


# --- notifications: stored with the call when it is booked, sent by the scheduler on the customer's channel ---


def confirmation_notice(start: datetime, phone: str, moved: bool = False) -> str:
    """The confirmation of a new (or moved) call; `start` in local time, `phone` in E.164."""
    when, number = fr.slot_label(start), phone_for_reading(phone)
    if moved:
        return f"Votre appel avec Hortense a bien été déplacé : un conseiller vous appellera le {when} au {number}."
    return (
        f"C'est confirmé : un conseiller Hortense vous appellera le {when} au {number}. "
        f"Pour le déplacer ou l'annuler, il suffit de me l'écrire ici."
    )


def reminder_notice(start: datetime, phone: str) -> str:
    """The reminder sent before the call."""
    return (
        f"Rappel : un conseiller Hortense vous appelle le {fr.slot_label(start)} au {phone_for_reading(phone)}. "
        f"Si vous n'êtes plus disponible, écrivez-moi ici pour déplacer ou annuler l'appel."
    )


def advisor_cancellation_notice(start: datetime, reason: str) -> str:
    """An advisor cancelled the call: the customer is told why."""
    return (
        f"Nous sommes désolés : votre appel avec un conseiller Hortense prévu le "
        f"{fr.slot_label(start)} est annulé. Motif : {reason}. "
        f"Vous pouvez reprendre rendez-vous en me l'écrivant ici."
    )


def moved_by_customer(start: datetime) -> str:
    """The cancellation reason kept on the old call when the customer moves it (advisors read it)."""
    return f"Déplacé par le client au {fr.slot_label(start)}"


def rescheduled_by_advisor(start: datetime) -> str:
    """The cancellation reason kept on the old call when an advisor moves it."""
    return f"Reporté au {fr.slot_label(start)}"
