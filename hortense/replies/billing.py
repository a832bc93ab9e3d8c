"""Mes factures: last invoices (consumption or resale) and the monthly payment schedule; the bank-details form's
messages (why an IBAN or a holder name is refused, which debit uses the new account)."""

from __future__ import annotations

from datetime import date

from hortense.account.customers import ContractView, CustomerView
from hortense.billing import bank_details as bank
from hortense.billing.bank_details import IbanCheck
from hortense.billing.invoices import InstalmentView, InvoiceView
from hortense.replies import formatting as fr
from hortense.replies.common import Button, Link, Reply, intent_payload, shortcuts, site_prefix

B_OLDER = Button("Factures précédentes", intent_payload("ask_invoices", invoice_scope="older"))


def _noun(invoice: InvoiceView) -> str:
    return "facture de revente" if invoice.kind == "resale" else "facture"


def invoice_download(invoice: InvoiceView, url: str, one: bool = True) -> Link:
    """The download link of an invoice: "Télécharger la facture (PDF)" alone, its date among several."""
    short = f"PDF du {invoice.issued_on:%d/%m/%Y}"
    if one:
        return Link("Télécharger la facture (PDF)", url, "Facture (PDF)")
    return Link(f"Facture du {fr.short_date(invoice.issued_on)} (PDF)", url, short)


def one_invoice(
    customer: CustomerView,
    contract: ContractView,
    invoice: InvoiceView,
    link: Link | None,
    latest: bool,
    has_older: bool,
) -> Reply:
    """ "Ma dernière facture": that invoice (amount, date, status, download), older ones one button away."""
    which = "dernière" if latest else "précédente"
    text = (
        f"{site_prefix(customer, contract)}Votre {which} {_noun(invoice)} ({invoice.number}) du "
        f"{fr.short_date(invoice.issued_on)} : {fr.eur(invoice.amount_eur)}, {invoice_status(invoice)}."
    )
    return Reply(text, (B_OLDER,) if has_older else (), links=(link,) if link else ())


def older_invoices(
    customer: CustomerView, contract: ContractView, items: tuple[InvoiceView, ...], links: dict[str, Link]
) -> Reply:
    """Older invoices, one line each; their downloads travel as links (buttons), in the same order."""
    prefix = site_prefix(customer, contract)
    if not items:
        return Reply(f"{prefix}Je n'ai pas de facture plus ancienne sur votre compte.")
    noun = "factures de revente" if items[0].kind == "resale" else "factures"
    lines = [f"{prefix}Vos {noun} précédentes :"]
    for inv in items:
        lines.append(
            f"• {fr.short_date(inv.issued_on)} ({inv.number}) : {fr.eur(inv.amount_eur)}, {invoice_status(inv)}"
        )
    return Reply("\n".join(lines), links=tuple(links[i.number] for i in items if i.number in links))


def no_invoice_yet(customer: CustomerView, contract: ContractView, first_due: str) -> Reply:
    return Reply(
        f"{site_prefix(customer, contract)}Vous n'avez pas encore de facture : votre contrat a démarré le "
        f"{fr.short_date(contract.start_date)}, et la première sera émise {first_due}, après votre premier "
        "relevé."
    )


def invoice_status(invoice: InvoiceView) -> str:
    if invoice.status == "paid":
        return f"payée le {fr.short_date(invoice.paid_on)}" if invoice.paid_on else "payée"
    if invoice.status == "paid_to_customer":
        return f"versée le {fr.short_date(invoice.paid_on)}" if invoice.paid_on else "versée"
    if invoice.status == "to_be_paid_to_customer":
        return (
            f"versement prévu avant le {fr.short_date(invoice.due_date)}" if invoice.due_date else "versement à venir"
        )
    return f"à régler avant le {fr.short_date(invoice.due_date)}" if invoice.due_date else "à régler"


def invoices(
    customer: CustomerView, contract: ContractView, items: tuple[InvoiceView, ...], links: dict[str, str] | None = None
) -> Reply:
    """`links` maps invoice numbers to signed download URLs when documents are available."""
    prefix = site_prefix(customer, contract)
    if not items:
        return Reply(f"{prefix}Vous n'avez pas encore de facture : la première sera émise après votre premier relevé.")
    resale = items[0].kind == "resale"
    last = items[0]
    noun = "facture de revente" if resale else "facture"
    lines = [
        f"{prefix}Votre dernière {noun} ({last.number}) du {fr.short_date(last.issued_on)} : "
        f"{fr.eur(last.amount_eur)}, {invoice_status(last)}."
    ]
    lines.append("Vos factures récentes :" if not resale else "Vos factures de revente récentes :")
    for inv in items:
        link = (links or {}).get(inv.number)
        suffix = f" — {link}" if link else ""
        lines.append(f"• {fr.short_date(inv.issued_on)} : {fr.eur(inv.amount_eur)} ({invoice_status(inv)}){suffix}")
    return Reply("\n".join(lines))


def instalments(customer: CustomerView, contract: ContractView, upcoming: tuple[InstalmentView, ...]) -> Reply:
    prefix = site_prefix(customer, contract)
    if not upcoming:
        return Reply(f"{prefix}Vous n'avez pas de prélèvement programmé pour le moment.", shortcuts("ask_invoices"))
    nxt = upcoming[0]
    lines = [f"{prefix}Votre prochain prélèvement : {fr.eur(nxt.amount_eur)} le {fr.long_date(nxt.due_date)}."]
    if len(upcoming) > 1:
        lines.append("Ensuite :")
        lines += [f"• {fr.short_date(i.due_date)} : {fr.eur(i.amount_eur)}" for i in upcoming[1:]]
    return Reply("\n".join(lines), shortcuts("ask_invoices", "change_bank_details"))


# --- the bank-details form (web/bank.py) --------------------------------------------------------

MSG_IBAN_EMPTY = "Veuillez saisir votre IBAN."
MSG_IBAN_CHARACTERS = "L'IBAN ne peut contenir que des lettres et des chiffres (les espaces sont acceptés)."
MSG_IBAN_PREFIX = "Un IBAN commence par deux lettres (le code pays, par exemple FR) suivies de deux chiffres."
MSG_IBAN_UNKNOWN_COUNTRY = (
    "Le code pays « {country} » ne correspond à aucun IBAN. Seuls les comptes de la zone SEPA sont acceptés."
)
MSG_IBAN_NOT_SEPA = "Seuls les comptes de la zone SEPA sont acceptés."
MSG_IBAN_LENGTH = "Un IBAN commençant par {country} comporte {expected} caractères ; vous en avez saisi {actual}."
MSG_IBAN_CHECKSUM = "La clé de contrôle de l'IBAN est incorrecte : vérifiez chaque caractère."
MSG_IBAN_STRUCTURE = (
    "Le format de cet IBAN ne correspond pas à celui des comptes {country} : vérifiez chaque caractère."
)
MSG_IBAN_RIB_KEY = (
    "La clé RIB (les deux derniers chiffres de l'IBAN) ne correspond pas au numéro "
    "de compte : vérifiez chaque caractère."
)

MSG_HOLDER_EMPTY = "Veuillez indiquer le nom du titulaire du compte."
MSG_HOLDER_TOO_SHORT = "Le nom du titulaire doit comporter au moins 2 caractères."
MSG_HOLDER_TOO_LONG = "Le nom du titulaire ne doit pas dépasser 70 caractères."
MSG_HOLDER_CHARACTERS = "Le nom du titulaire ne peut contenir que des lettres, des espaces et les caractères ' - . /"
MSG_HOLDER_NO_LETTERS = "Le nom du titulaire doit contenir au moins deux lettres."

IBAN_ERRORS = {
    bank.IBAN_EMPTY: MSG_IBAN_EMPTY,
    bank.IBAN_CHARACTERS: MSG_IBAN_CHARACTERS,
    bank.IBAN_PREFIX: MSG_IBAN_PREFIX,
    bank.IBAN_UNKNOWN_COUNTRY: MSG_IBAN_UNKNOWN_COUNTRY,
    bank.IBAN_NOT_SEPA: MSG_IBAN_NOT_SEPA,
    bank.IBAN_LENGTH: MSG_IBAN_LENGTH,
    bank.IBAN_CHECKSUM: MSG_IBAN_CHECKSUM,
    bank.IBAN_STRUCTURE: MSG_IBAN_STRUCTURE,
    bank.IBAN_RIB_KEY: MSG_IBAN_RIB_KEY,
}
HOLDER_ERRORS = {
    bank.HOLDER_EMPTY: MSG_HOLDER_EMPTY,
    bank.HOLDER_TOO_SHORT: MSG_HOLDER_TOO_SHORT,
    bank.HOLDER_TOO_LONG: MSG_HOLDER_TOO_LONG,
    bank.HOLDER_CHARACTERS: MSG_HOLDER_CHARACTERS,
    bank.HOLDER_NO_LETTERS: MSG_HOLDER_NO_LETTERS,
}


def iban_error(check: IbanCheck) -> str | None:
    """What to correct in the IBAN, or None when it was accepted."""
    if check.problem is None:
        return None
    return IBAN_ERRORS[check.problem].format(
        country=check.country, expected=check.expected_length, actual=check.actual_length
    )


def holder_error(problem: str | None) -> str | None:
    """What to correct in the holder's name (`problem`: what validate_holder returned)."""
    return None if problem is None else HOLDER_ERRORS[problem]


def effective_date_message(signed_on: date) -> str:
    """Tell the customer which debit will use the new account, and why."""
    first = bank.effective_date(signed_on)
    still_old = bank.debit_still_on_old_account(signed_on)
    if still_old is None:
        return f"Votre nouveau compte sera utilisé dès le prélèvement de {fr.month(first)}."
    return (
        f"Votre changement étant enregistré à partir du {bank.MANDATE_CUTOFF_DAY} du mois, "
        f"le prélèvement de {fr.month(still_old)} sera encore effectué sur votre "
        f"ancien compte ; le nouveau compte sera utilisé dès le prélèvement de "
        f"{fr.month(first)}."
    )
