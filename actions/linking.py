"""Linking a messaging conversation to a customer account ("lier mon compte 123456") and unlinking it.

The conversation to link is the one the connector vouched for in the signed assertion (channel and
sender); the code is read from the text of the message, never from a slot or an entity, so neither a
`/intent{...}` message nor client metadata can supply one. Slots about the previous account are cleared.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from typing import ClassVar

from rasa_sdk.events import SlotSet
from sqlalchemy.orm import Session

from actions.base import SLOT_CONTRACT, SLOT_PENDING, CustomerAction
from actions.turn import Outcome, Turn
from hortense.account import linking as links
from hortense.account.customers import load_customer
from hortense.replies import Reply
from hortense.replies import common as rc
from hortense.security.caller import Caller
from hortense.security.identity import IdentityError, VerifiedSender, verify_assertion
from hortense.security.link_codes import AttemptPolicy, extract_code

logger = logging.getLogger(__name__)

MESSAGING_CHANNELS = {"whatsapp": "WhatsApp", "telegram": "Telegram", "messenger": "Messenger"}

WEBSITE_LINK = Reply(
    "Ici, sur le site, votre espace client suffit à vous identifier : il n'y a rien à lier. "
    "Le code de liaison sert à relier WhatsApp, Telegram ou Messenger à votre compte."
)
WEBSITE_UNLINK = Reply(
    "Sur le site, votre conversation suit votre espace client : pour vous déconnecter, utilisez "
    "le bouton « Se déconnecter » de votre espace client. Depuis celui-ci, vous pouvez aussi "
    "délier vos messageries."
)
UNTRUSTED = Reply(
    "Je ne peux pas relier cette conversation à un compte. Retrouvez-moi dans votre espace client "
    "sur le site, ou écrivez-moi depuis WhatsApp, Telegram ou Messenger."
)
WRONG_CODE = (
    "Ce code ne correspond à aucun code de liaison en cours. Vérifiez-le dans votre espace client, "
    "rubrique « Mon contrat » (il est valable 10 minutes)."
)
EXPIRED = Reply(
    "Ce code n'est plus valable : un code de liaison sert une seule fois et pendant 10 minutes. "
    "Demandez-en un nouveau dans votre espace client, rubrique « Mon contrat », puis écrivez-moi "
    "« lier mon compte » suivi du nouveau code."
)
LOCKED = Reply(
    "Trop d'essais de code ont échoué : pour protéger votre compte, la liaison est bloquée pendant une "
    "heure sur cette conversation. Réessayez plus tard avec un nouveau code, ou appelez nos conseillers."
)
UNLINKED = Reply(
    "C'est fait : cette conversation n'est plus reliée à votre compte. Je ne vous répondrai plus sur "
    "vos contrats ici, sauf si vous la reliez à nouveau avec un nouveau code de liaison."
)
NOT_LINKED = Reply("Cette conversation n'est reliée à aucun compte : il n'y a rien à délier.")


def _clear_account_slots() -> list[dict]:
    """The previous account's choices must not carry over to another account."""
    return [SlotSet(SLOT_CONTRACT, None), SlotSet(SLOT_PENDING, None)]


def _verified_messaging_sender(turn: Turn) -> VerifiedSender | None:
    try:
        verified = verify_assertion(turn.metadata, turn.channel, turn.sender_id)
    except IdentityError as exc:
        logger.info("link action without a trusted sender: %s", exc)
        return None
    return verified


def _wrong_code(attempts_left: int | None) -> Reply:
    if attempts_left is None or attempts_left >= AttemptPolicy.MAX_ATTEMPTS - 1:
        return Reply(WRONG_CODE)
    plural = "s" if attempts_left > 1 else ""
    return Reply(f"{WRONG_CODE} Il vous reste {attempts_left} essai{plural}.")


class MessagingSenderAction(CustomerAction):
    """Acts on the messaging conversation the connector vouched for: an unsigned sender is refused, and a website
    conversation gets `on_website` (it follows the customer space, there is nothing to link or unlink)."""

    on_website: ClassVar[Reply]

    def handle(self, session: Session, caller: Caller, turn: Turn) -> Outcome:
        verified = _verified_messaging_sender(turn)
        if verified is None:
            return Outcome([UNTRUSTED])
        if verified.channel not in MESSAGING_CHANNELS:
            return Outcome([self.on_website])
        return self.handle_sender(session, caller, turn, verified)

    @abstractmethod
    def handle_sender(self, session: Session, caller: Caller, turn: Turn, verified: VerifiedSender) -> Outcome:
        """The action's work for a signed messaging sender."""


class LinkAccount(MessagingSenderAction):
    action_name = "action_link_account"
    on_website = WEBSITE_LINK

    def handle_sender(self, session: Session, caller: Caller, turn: Turn, verified: VerifiedSender) -> Outcome:
        code = extract_code(turn.text)
        if code is None:
            if caller.customer is not None:
                return Outcome([self._already_linked(caller)])
            return Outcome([rc.login_required(verified.channel)])
        result = links.link(session, verified.channel, verified.sender_id, code)
        logger.info("link attempt on %s: %s", verified.channel, result.status)
        if result.status == "ok":
            customer = load_customer(session, result.customer_number) if result.customer_number else None
            name = customer.first_name if customer else ""
            platform = MESSAGING_CHANNELS[verified.channel]
            return Outcome(
                [
                    Reply(
                        f"C'est fait{', ' + name if name else ''} : cette conversation {platform} est "
                        "maintenant reliée à votre compte. Que puis-je faire pour vous ?",
                        rc.menu_buttons(customer),
                    )
                ],
                _clear_account_slots(),
            )
        if result.status == "already_linked":
            return Outcome([self._already_linked(caller)])
        if result.status == "expired":
            return Outcome([EXPIRED])
        if result.status == "locked":
            return Outcome([LOCKED])
        return Outcome([_wrong_code(result.attempts_left)])

    @staticmethod
    def _already_linked(caller: Caller) -> Reply:
        return Reply(
            "Cette conversation est déjà reliée à un compte client. Pour la relier à un autre compte, "
            "écrivez d'abord « délier mon compte ».",
            rc.menu_buttons(caller.customer),
        )


class UnlinkAccount(MessagingSenderAction):
    action_name = "action_unlink_account"
    on_website = WEBSITE_UNLINK

    def handle_sender(self, session: Session, caller: Caller, turn: Turn, verified: VerifiedSender) -> Outcome:
        if not links.unlink(session, verified.channel, verified.sender_id):
            return Outcome([NOT_LINKED])
        logger.info("conversation unlinked on %s", verified.channel)
        return Outcome([UNLINKED], _clear_account_slots())
