"""Building blocks of every answer: replies, buttons, menus, log-in prompts and offer mismatches."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hortense.account.customers import ContractView, CustomerView
from hortense.account.offers import BATTERY, CONSUMPTION, INSTALMENTS, KITTY, SURPLUS
from hortense.db.models import OFFER_BOOST, OFFER_PRO, OFFER_STOCKAGE
from hortense.replies import supplier


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Link:
    """A download or form link: shown as a button or a short labelled link, never as a raw URL in the text.

    `short` is the label where a platform allows only a few characters (Messenger buttons: 20)."""

    label: str
    url: str
    short: str = ""


# How a link travels in a bot message: a button of this type (Rasa passes extra button keys through), which
# each connector renders its own way (`channels.common.link_buttons`). It has no payload: never a choice.
LINK_BUTTON_TYPE = "web_url"


def link_button(link: Link) -> dict:
    button = {"type": LINK_BUTTON_TYPE, "title": link.label, "url": link.url}
    if link.short:
        button["short_title"] = link.short
    return button


@dataclass(frozen=True)
class Reply:
    """One bot message. `image` with `text`: the text is the image's caption (one platform message where the
    platform allows it)."""

    text: str
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    custom: dict | None = field(default=None)
    links: tuple[Link, ...] = ()


def intent_payload(intent: str, **entities: str) -> str:
    """A button payload in Rasa's `/intent{...}` form (the only place these strings are built)."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


# The label of the quick-reply button that asks each of these intents (one label per intent, everywhere).
SHORTCUT_LABELS = {
    "ask_contract_details": "Mon contrat",
    "ask_consumption": "Ma conso",
    "ask_surplus": "Mon surplus",
    "ask_kitty": "Ma cagnotte",
    "ask_battery_level": "Ma batterie virtuelle",
    "ask_invoices": "Mes factures",
    "ask_next_instalment": "Mon échéancier",
    "book_appointment": "Rendez-vous",
    "ask_pdl": "Mon PDL",
    "ask_offpeak_hours": "Heures creuses",
    "request_proof_of_address": "Justificatif de domicile",
    "request_contract_document": "Contrat PDF",
    "change_bank_details": "Changer de RIB",
}


def shortcut(intent: str) -> Button:
    """The quick-reply button asking `intent`, under its `SHORTCUT_LABELS` label."""
    return Button(SHORTCUT_LABELS[intent], intent_payload(intent))


def shortcuts(*intents: str) -> tuple[Button, ...]:
    """The quick-reply buttons asking `intents`, in that order."""
    return tuple(shortcut(intent) for intent in intents)


def menu_buttons(customer: CustomerView | None) -> tuple[Button, ...]:
    """Mon contrat / Ma conso or Mon surplus / Mes factures / Rendez-vous, for the customer's own offers."""
    if customer is None:
        return ()
    offers = {c.offer for c in customer.contracts}
    middle = []
    if offers & {OFFER_STOCKAGE, OFFER_PRO}:
        middle.append("ask_consumption")
    if OFFER_BOOST in offers:
        middle.append("ask_surplus")
    return shortcuts("ask_contract_details", *middle, "ask_invoices", "book_appointment")


def greeting(customer: CustomerView | None, channel: str | None = None) -> Reply:
    if customer is None and channel not in (None, "web"):
        return Reply(
            "Bonjour, je suis Hortense, l'assistante virtuelle de Hortense Énergie. " + login_required(channel).text
        )
    if customer is None:
        return Reply(
            "Bonjour, je suis Hortense, l'assistante virtuelle de Hortense Énergie. Je réponds à vos "
            "questions générales ; pour votre compte (contrat, consommation, factures), connectez-vous "
            "à votre espace client et je vous réponds tout de suite."
        )
    name = customer.first_name
    return Reply(
        f"Bonjour {name} ! Je suis Hortense, votre assistante virtuelle. Que puis-je faire pour vous ?",
        menu_buttons(customer),
    )


def help_reply(customer: CustomerView | None) -> Reply:
    if customer is None:
        return Reply(
            "Je peux vous renseigner sur nos offres d'électricité verte et vous orienter. Depuis "
            "votre espace client, je vous donne votre PDL, vos heures creuses, votre "
            "consommation, vos factures, et je prends rendez-vous avec un conseiller."
        )
    offers = {c.offer for c in customer.contracts}
    topics = ["votre contrat (PDL, numéro, heures creuses, justificatif de domicile)"]
    if OFFER_STOCKAGE in offers:
        topics.append("votre batterie virtuelle et votre consommation")
    elif OFFER_PRO in offers:
        topics.append("votre consommation")
    if OFFER_BOOST in offers:
        topics.append("votre surplus injecté et votre cagnotte")
    topics.append(
        "vos factures" + (" et votre échéancier" if any(c.monthly_payment for c in customer.contracts) else "")
    )
    topics.append("un rendez-vous téléphonique avec un conseiller")
    return Reply(
        "Je peux vous aider sur : " + ", ".join(topics[:-1]) + " et " + topics[-1] + ". Choisissez :",
        menu_buttons(customer),
    )


def login_required(channel: str | None) -> Reply:
    """What a stranger gets instead of account data: how to prove who they are on this channel."""
    if channel in (None, "web"):
        return Reply(
            "Pour répondre sur votre compte, j'ai besoin de savoir qui vous êtes : connectez-vous à "
            "votre espace client, puis ouvrez la conversation depuis celui-ci."
        )
    return Reply(
        "Pour des raisons de sécurité, je dois d'abord relier cette conversation à votre compte. "
        "Dans votre espace client, rubrique « Mon contrat », demandez un code de liaison, puis "
        "écrivez-moi « lier mon compte » suivi du code (par exemple : lier mon compte 123456)."
    )


def no_active_contract() -> Reply:
    return Reply(
        "Je ne trouve pas de contrat actif sur votre compte. Un conseiller peut regarder cela avec vous.",
        shortcuts("book_appointment"),
    )


def choose_contract(customer: CustomerView, wanted: str) -> Reply:
    """A business with several sites picks one with buttons; payloads carry the contract number only."""
    buttons = tuple(
        Button(c.short_name, intent_payload("select_contract", contract_number=c.contract_number))
        for c in customer.contracts
    )
    return Reply(f"Vous avez {len(customer.contracts)} contrats. Pour lequel souhaitez-vous {wanted} ?", buttons)


def unknown_contract(customer: CustomerView) -> Reply:
    return Reply(
        "Ce contrat ne figure pas sur votre compte. Choisissez l'un des vôtres :",
        choose_contract(customer, "continuer").buttons,
    )


def site_prefix(customer: CustomerView, contract: ContractView) -> str:
    """Name the site in every answer when the customer has several, so there is no doubt which one."""
    return f"{contract.short_name} — " if len(customer.contracts) > 1 else ""


def unavailable(
    feature: str, contract: ContractView, reason: str | None, customer: CustomerView | None = None
) -> Reply:
    """A question outside the customer's offer: a clear explanation and what is available instead."""
    offer = contract.offer_label
    if feature == INSTALMENTS and reason == "not_monthly":
        if customer is None or customer.company_name:
            who = "Ce contrat n'est pas mensualisé : il n'a donc pas d'échéancier, chaque facture se règle"
        elif (customer.civility or "").lower().startswith("mme"):
            who = "Vous n'êtes pas mensualisée : vous n'avez donc pas d'échéancier, vous réglez chaque facture"
        else:
            who = "Vous n'êtes pas mensualisé : vous n'avez donc pas d'échéancier, vous réglez chaque facture"
        return Reply(f"{who} à réception. Je peux vous montrer vos dernières factures.", shortcuts("ask_invoices"))
    if feature == INSTALMENTS:
        return Reply(
            f"Avec {offer}, vous n'avez pas d'échéancier à payer : c'est nous qui vous versons le "
            "montant de vos factures de revente.",
            shortcuts("ask_invoices", "ask_kitty"),
        )
    if feature == BATTERY:
        alt = shortcuts("ask_surplus", "ask_kitty") if contract.offer == OFFER_BOOST else shortcuts("ask_consumption")
        return Reply(
            f"La batterie virtuelle fait partie de l'offre Stockage Virtuel ; votre contrat {offer} n'en comporte pas.",
            alt,
        )
    if feature == CONSUMPTION:
        return Reply(
            f"Avec {offer}, nous suivons l'électricité que vous injectez sur le réseau, pas votre "
            "consommation. Je peux vous donner votre surplus ou votre cagnotte.",
            shortcuts("ask_surplus", "ask_kitty"),
        )
    if feature in (SURPLUS, KITTY):
        what = "La cagnotte" if feature == KITTY else "Le suivi du surplus injecté"
        if contract.offer == OFFER_STOCKAGE:
            return Reply(
                f"{what} concerne l'offre Boost Mon Surplus. Avec {offer}, votre surplus solaire est "
                "stocké dans votre batterie virtuelle.",
                shortcuts("ask_battery_level", "ask_consumption"),
            )
        return Reply(
            f"{what} concerne l'offre Boost Mon Surplus, qui rémunère le surplus solaire ; votre "
            f"contrat {offer} n'en comporte pas.",
            shortcuts("ask_consumption", "ask_invoices"),
        )
    return Reply(
        f"Cette information n'est pas disponible pour votre contrat {offer}.", shortcuts("ask_contract_details")
    )


def advisor_contact() -> str:
    return (
        f"Vous pouvez joindre un conseiller Hortense au {supplier.CUSTOMER_SERVICE_PHONE}, "
        f"{supplier.CUSTOMER_SERVICE_HOURS}."
    )
