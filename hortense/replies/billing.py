"""Mes factures: last invoices (consumption or resale) and the monthly payment schedule."""
from __future__ import annotations

from hortense.account.customers import ContractView, CustomerView
from hortense.billing.invoices import InstalmentView, InvoiceView
from hortense.replies import formatting as fr
from hortense.replies.common import B_BANK, B_INVOICES, Reply, site_prefix


def invoice_status(invoice: InvoiceView) -> str:
    if invoice.status == "paid":
        return f"payée le {fr.short_date(invoice.paid_on)}" if invoice.paid_on else "payée"
    if invoice.status == "paid_to_customer":
        return f"versée le {fr.short_date(invoice.paid_on)}" if invoice.paid_on else "versée"
    if invoice.status == "to_be_paid_to_customer":
        return (f"versement prévu avant le {fr.short_date(invoice.due_date)}" if invoice.due_date
                else "versement à venir")
    return f"à régler avant le {fr.short_date(invoice.due_date)}" if invoice.due_date else "à régler"


def invoices(customer: CustomerView, contract: ContractView, items: tuple[InvoiceView, ...],
             links: dict[str, str] | None = None) -> Reply:
    """`links` maps invoice numbers to signed download URLs when documents are available."""
    prefix = site_prefix(customer, contract)
    if not items:
        return Reply(f"{prefix}Vous n'avez pas encore de facture : la première sera émise après votre premier "
                     "relevé.")
    resale = items[0].kind == "resale"
    last = items[0]
    noun = "facture de revente" if resale else "facture"
    lines = [f"{prefix}Votre dernière {noun} ({last.number}) du {fr.short_date(last.issued_on)} : "
             f"{fr.eur(last.amount_eur)}, {invoice_status(last)}."]
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
