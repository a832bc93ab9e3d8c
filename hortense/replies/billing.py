"""Mes factures: last invoices (consumption or resale) and the monthly payment schedule."""

from __future__ import annotations

from hortense.account.customers import ContractView, CustomerView
from hortense.billing.invoices import InstalmentView, InvoiceView
from hortense.replies import formatting as fr
from hortense.replies.common import B_BANK, B_INVOICES, Button, Link, Reply, intent_payload, site_prefix

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
        return Reply(f"{prefix}Vous n'avez pas de prélèvement programmé pour le moment.", (B_INVOICES,))
    nxt = upcoming[0]
    lines = [f"{prefix}Votre prochain prélèvement : {fr.eur(nxt.amount_eur)} le {fr.long_date(nxt.due_date)}."]
    if len(upcoming) > 1:
        lines.append("Ensuite :")
        lines += [f"• {fr.short_date(i.due_date)} : {fr.eur(i.amount_eur)}" for i in upcoming[1:]]
    return Reply("\n".join(lines), (B_INVOICES, B_BANK))
