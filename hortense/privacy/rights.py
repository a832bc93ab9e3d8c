"""A customer's rights of access and erasure (GDPR art. 15, 17 and 20), for the console, the CLI and the
customer space.

Whose conversations are whose: a customer's conversations are the website one (`web-<number>`, chosen by the
channel from the verified portal token) and those of the messaging senders linked to the account. An export or
erasure by a supervisor also covers the conversations their calls were booked from (a sender unlinked since).

Erasure deletes the conversations (tracker store), the notification texts, the account links, link codes,
messaging contacts, sessions and review labels, and anonymises the customer's identity and contact details and
their calls. It keeps what contract and accounting law require: the customer number, contracts, invoices,
instalments, consumption records and bank-mandate records (see README, "Privacy").
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from hortense import clock
from hortense.db.calendar_models import STATUS_BOOKED, STATUS_CANCELLED, Appointment, Notification
from hortense.db.console_models import CallOutcome, ReviewLabel
from hortense.db.link_models import AccountLink, LinkAttempt, LinkCode
from hortense.db.messaging_models import MessagingContact
from hortense.db.models import Contract, Customer
from hortense.db.security_models import PortalSession
from hortense.privacy import audit, transcripts
from hortense.replies import privacy as wording
from hortense.security.identity import web_sender_id

EXPORT_FORMAT = "hortense-donnees-personnelles-v1"
ERASED_FIRST_NAME = "Client"
ERASED_LAST_NAME = "anonymisé"
ERASED_BY = "erasure"  # appointments.cancelled_by of a call cancelled because its customer's data was erased


class UnknownCustomer(LookupError):
    pass


def find_customer(session: Session, customer_number: str) -> Customer | None:
    number = (customer_number or "").strip()
    if not number or len(number) > 20:
        return None
    return session.execute(select(Customer).where(Customer.customer_number == number)).scalar_one_or_none()


def own_conversations(session: Session, customer: Customer) -> list[str]:
    """What the customer may download: the website conversation and their linked messaging senders."""
    linked = session.execute(select(AccountLink.sender_id).where(AccountLink.customer_id == customer.id)).scalars()
    return sorted({web_sender_id(customer.customer_number), *linked})


def all_conversations(session: Session, customer: Customer) -> list[str]:
    """What an export or erasure by a supervisor covers: the customer's own conversations and those their
    calls were booked from."""
    booked_from = session.execute(
        select(Appointment.sender_id).where(Appointment.customer_id == customer.id, Appointment.sender_id != "")
    ).scalars()
    return sorted({*own_conversations(session, customer), *booked_from})


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _conversations_json(tracker_url: str | None, senders: list[str]) -> list[dict]:
    if tracker_url is None:
        return []
    by_sender: dict[str, list[dict]] = {}
    for message in transcripts.messages(tracker_url, senders):
        by_sender.setdefault(message.conversation_id, []).append(message.as_json())
    return [{"conversation": sender, "messages": lines} for sender, lines in by_sender.items()]


def _notifications(session: Session, customer: Customer) -> list[dict]:
    rows = session.execute(
        select(Notification)
        .join(Appointment, Appointment.id == Notification.appointment_id)
        .where(Appointment.customer_id == customer.id, Notification.text != "")
        .order_by(Notification.due_at, Notification.id)
    ).scalars()
    return [
        {
            "type": n.kind,
            "canal": n.channel,
            "texte": n.text,
            "prevu_le": _iso(n.due_at),
            "envoye_le": _iso(n.sent_at),
        }
        for n in rows
    ]


def customer_download(session: Session, tracker_url: str | None, customer_number: str, now: datetime) -> dict:
    """The logged-in customer's own conversations and the messages sent to them (JSON-ready); audited."""
    customer = find_customer(session, customer_number)
    if customer is None:
        raise UnknownCustomer(customer_number)
    senders = own_conversations(session, customer)
    data = {
        "format": EXPORT_FORMAT,
        "genere_le": now.isoformat(),
        "client": customer.customer_number,
        "conversations": _conversations_json(tracker_url, senders),
        "notifications": _notifications(session, customer),
    }
    audit.record(
        session,
        actor=audit.customer_actor(customer.customer_number),
        action=audit.CUSTOMER_DOWNLOAD,
        customer_number=customer.customer_number,
        detail=f"{len(senders)} conversation(s)",
        now=now,
    )
    return data


def export_customer(
    session: Session, tracker_url: str | None, customer_number: str, *, actor: str, now: datetime
) -> dict:
    """Everything Hortense holds about one customer (GDPR art. 15/20), JSON-ready; audited."""
    customer = find_customer(session, customer_number)
    if customer is None:
        raise UnknownCustomer(customer_number)
    senders = all_conversations(session, customer)
    contracts = session.execute(select(Contract).where(Contract.customer_id == customer.id)).scalars().all()
    appointments = (
        session.execute(select(Appointment).where(Appointment.customer_id == customer.id).order_by(Appointment.id))
        .scalars()
        .all()
    )
    notes = session.execute(
        select(CallOutcome.appointment_id, CallOutcome.outcome, CallOutcome.note, CallOutcome.created_at)
        .join(Appointment, Appointment.id == CallOutcome.appointment_id)
        .where(Appointment.customer_id == customer.id)
        .order_by(CallOutcome.id)
    ).all()
    links = session.execute(select(AccountLink).where(AccountLink.customer_id == customer.id)).scalars().all()
    data = {
        "format": EXPORT_FORMAT,
        "genere_le": now.isoformat(),
        "client": {
            "numero": customer.customer_number,
            "civilite": customer.civility,
            "prenom": customer.first_name,
            "nom": customer.last_name,
            "societe": customer.company_name,
            "email": customer.email,
            "telephone": customer.phone,
            "adresse_facturation": customer.billing_address,
            "code_postal": customer.billing_postcode,
            "ville": customer.billing_city,
            "actif": customer.is_active,
        },
        "contrats": [
            {
                "numero": c.contract_number,
                "offre": c.offer,
                "pdl": c.pdl,
                "adresse": f"{c.supply_address}, {c.supply_postcode} {c.supply_city}",
                "debut": _iso(c.start_date),
                "statut": c.status,
            }
            for c in contracts
        ],
        "comptes_messagerie_lies": [
            {"canal": link.channel, "conversation": link.sender_id, "lie_le": _iso(link.linked_at)} for link in links
        ],
        "rendez_vous": [
            {
                "id": a.id,
                "debut": _iso(a.start_utc),
                "statut": a.status,
                "motif": a.reason,
                "telephone": a.phone,
                "canal": a.channel,
                "conversation": a.sender_id,
                "motif_annulation": a.cancel_reason,
            }
            for a in appointments
        ],
        "suivi_des_appels": [
            {"rendez_vous": n.appointment_id, "resultat": n.outcome, "note": n.note, "le": _iso(n.created_at)}
            for n in notes
        ],
        "notifications": _notifications(session, customer),
        "conversations": _conversations_json(tracker_url, senders),
    }
    audit.record(
        session,
        actor=actor,
        action=audit.EXPORT,
        customer_number=customer.customer_number,
        detail=wording.export_detail(len(senders), len(appointments)),
        now=now,
    )
    return data


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


@dataclass(frozen=True)
class Summary:
    """What an erasure would touch, shown on the console before the supervisor confirms."""

    customer_number: str
    name: str
    active: bool
    active_contracts: int
    conversations: list[str]
    appointments: int
    booked_calls: int
    account_links: int


def summary(session: Session, customer_number: str) -> Summary | None:
    customer = find_customer(session, customer_number)
    if customer is None:
        return None

    def count(stmt) -> int:
        return int(session.execute(stmt).scalar() or 0)

    return Summary(
        customer_number=customer.customer_number,
        name=customer.company_name or f"{customer.first_name} {customer.last_name}".strip(),
        active=customer.is_active,
        active_contracts=count(
            select(func.count()).where(Contract.customer_id == customer.id, Contract.status == "active")
        ),
        conversations=all_conversations(session, customer),
        appointments=count(select(func.count()).where(Appointment.customer_id == customer.id)),
        booked_calls=count(
            select(func.count()).where(Appointment.customer_id == customer.id, Appointment.status == STATUS_BOOKED)
        ),
        account_links=count(select(func.count()).where(AccountLink.customer_id == customer.id)),
    )


@dataclass(frozen=True)
class ErasureReport:
    customer_number: str
    events: int
    conversations: int
    notifications: int
    account_links: int
    link_codes: int
    appointments: int
    cancelled_calls: int
    call_notes: int
    review_labels: int
    messaging_contacts: int
    sessions: int

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """In French, for the console, the CLI and the privacy audit (hortense/replies/privacy.py)."""
        return wording.erasure_report(self)


def erase_customer(
    session: Session, tracker_url: str | None, customer_number: str, *, actor: str, now: datetime | None = None
) -> ErasureReport:
    """Erase one customer's conversations and personal data (GDPR art. 17); audited in the same transaction.

    The tracker store is another database: its events are deleted first, so that a failure there changes
    nothing here, and a failure here after it leaves an erasure that simply runs again (it is idempotent).
    """
    now = now or clock.now()
    customer = find_customer(session, customer_number)
    if customer is None:
        raise UnknownCustomer(customer_number)
    senders = all_conversations(session, customer)
    events = transcripts.delete_conversations(tracker_url, senders) if tracker_url else 0
    appointment_ids = select(Appointment.id).where(Appointment.customer_id == customer.id).scalar_subquery()

    def changed(stmt) -> int:
        return int(session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0)

    notifications = changed(
        update(Notification)
        .where(
            Notification.appointment_id.in_(appointment_ids), or_(Notification.text != "", Notification.sender_id != "")
        )
        .values(text="", sender_id="")
    )
    changed(
        update(Notification)
        .where(
            Notification.appointment_id.in_(appointment_ids),
            Notification.sent_at.is_(None),
            Notification.abandoned_at.is_(None),
        )
        .values(abandoned_at=now, last_error="données du client effacées")
    )
    cancelled = changed(
        update(Appointment)
        .where(Appointment.customer_id == customer.id, Appointment.status == STATUS_BOOKED)
        .values(status=STATUS_CANCELLED, cancelled_by=ERASED_BY, updated_at=now)
    )
    appointments = changed(
        update(Appointment)
        .where(
            Appointment.customer_id == customer.id,
            or_(
                Appointment.reason != "",
                Appointment.phone != "",
                Appointment.sender_id != "",
                Appointment.cancel_reason.is_not(None),
            ),
        )
        .values(reason="", phone="", sender_id="", cancel_reason=None, updated_at=now)
    )
    call_notes = changed(
        update(CallOutcome)
        .where(CallOutcome.appointment_id.in_(appointment_ids), CallOutcome.note != "")
        .values(note="")
    )
    linked = session.execute(
        select(AccountLink.channel, AccountLink.sender_id).where(AccountLink.customer_id == customer.id)
    ).all()
    messaging_contacts = 0
    for channel, sender_id in linked:
        messaging_contacts += changed(
            delete(MessagingContact).where(MessagingContact.channel == channel, MessagingContact.sender_id == sender_id)
        )
        changed(delete(LinkAttempt).where(LinkAttempt.channel == channel, LinkAttempt.sender_id == sender_id))
    account_links = changed(delete(AccountLink).where(AccountLink.customer_id == customer.id))
    link_codes = changed(delete(LinkCode).where(LinkCode.customer_id == customer.id))
    review_labels = changed(delete(ReviewLabel).where(ReviewLabel.sender_id.in_(senders))) if senders else 0
    sessions = changed(delete(PortalSession).where(PortalSession.customer_number == customer.customer_number))
    customer.civility = ""
    customer.first_name = ERASED_FIRST_NAME
    customer.last_name = ERASED_LAST_NAME
    customer.email = ""
    customer.phone = None
    customer.billing_address = ""
    customer.billing_postcode = ""
    customer.billing_city = ""
    customer.is_active = False
    report = ErasureReport(
        customer_number=customer.customer_number,
        events=events,
        conversations=len(senders),
        notifications=notifications,
        account_links=account_links,
        link_codes=link_codes,
        appointments=appointments,
        cancelled_calls=cancelled,
        call_notes=call_notes,
        review_labels=review_labels,
        messaging_contacts=messaging_contacts,
        sessions=sessions,
    )
    audit.record(
        session,
        actor=actor,
        action=audit.ERASE,
        customer_number=customer.customer_number,
        detail=report.describe(),
        now=now,
    )
    return report
