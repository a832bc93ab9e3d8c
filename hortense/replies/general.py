"""Small talk, out-of-scope pointers and the fallback's "did you mean" suggestions."""

from __future__ import annotations

from hortense.account.customers import CustomerView
from hortense.energy.topics import CANCELLATION, MOVING, OUTAGE
from hortense.replies import supplier
from hortense.replies.common import Button, Reply, advisor_contact, intent_payload, menu_buttons, shortcuts

# How each intent is offered back to a customer when Hortense is unsure ("Vouliez-vous dire… ?").
INTENT_LABELS = {
    "ask_pdl": "Mon numéro de PDL",
    "ask_contract_number": "Mon numéro de contrat",
    "ask_offpeak_hours": "Mes heures creuses",
    "ask_contract_details": "Mon contrat",
    "request_contract_document": "Mon contrat en PDF",
    "request_proof_of_address": "Un justificatif de domicile",
    "change_bank_details": "Changer de RIB",
    "ask_battery_level": "Ma batterie virtuelle",
    "ask_consumption": "Ma consommation",
    "ask_surplus": "Mon surplus injecté",
    "ask_kitty": "Ma cagnotte",
    "ask_invoices": "Mes factures",
    "ask_next_instalment": "Mon prochain prélèvement",
    "book_appointment": "Prendre rendez-vous",
    "cancel_appointment": "Annuler mon rendez-vous",
    "reschedule_appointment": "Déplacer mon rendez-vous",
    "ask_appointment": "Mon rendez-vous",
    "talk_to_human": "Parler à un conseiller",
    "help": "Ce que vous pouvez faire",
    "link_account": "Lier mon compte",
}


def bot_challenge() -> Reply:
    return Reply(
        "Je suis Hortense, l'assistante virtuelle de Hortense Énergie : un programme, pas une personne. "
        "Si vous préférez parler à un conseiller, je peux vous proposer un rendez-vous téléphonique. "
        + advisor_contact(),
        shortcuts("book_appointment"),
    )


def out_of_scope(topic: str | None, department: str | None, customer: CustomerView | None) -> Reply:
    if topic == OUTAGE:
        if department and department.isdigit():
            number = f"{supplier.ENEDIS_REPAIR_PREFIX} {department}"
            where = f"le {number} (dépannage Enedis, 24h/24)"
        else:
            where = (
                f"le {supplier.ENEDIS_REPAIR_PREFIX} suivi du numéro de votre département (par exemple "
                f"{supplier.ENEDIS_REPAIR_PREFIX} 75 à Paris), 24h/24"
            )
        return Reply(
            "Je suis désolée pour cette coupure. Les pannes sont gérées par Enedis, le gestionnaire du "
            f"réseau : appelez {where}. Vérifiez aussi votre disjoncteur."
        )
    if topic in (MOVING, CANCELLATION):
        what = "votre déménagement" if topic == MOVING else "la résiliation de votre contrat"
        return Reply(
            f"Un conseiller Hortense s'occupe de {what} avec vous. Voulez-vous prendre un rendez-vous téléphonique ?",
            shortcuts("book_appointment"),
        )
    text = (
        "Je ne sais pas répondre à cela, désolée. Je peux vous aider sur votre contrat, votre consommation ou "
        "votre surplus, vos factures, ou vous proposer un rendez-vous avec un conseiller."
    )
    return Reply(text, menu_buttons(customer))


def did_you_mean(intents: list[str]) -> Reply:
    buttons = [Button(INTENT_LABELS[i], intent_payload(i)) for i in intents if i in INTENT_LABELS and i != "help"][:3]
    buttons.append(Button("Autre chose", intent_payload("help")))
    return Reply("Je n'ai pas bien compris. Vouliez-vous dire… ?", tuple(buttons))


def second_miss() -> Reply:
    return Reply(
        "Je ne parviens pas à vous comprendre, désolée. Un conseiller Hortense peut vous rappeler : "
        "voulez-vous prendre rendez-vous ?",
        shortcuts("book_appointment"),
    )
