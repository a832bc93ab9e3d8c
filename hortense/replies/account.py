"""Mon contrat: PDL, contract number, off-peak hours, offer details."""

from __future__ import annotations

from babel.dates import get_month_names

from hortense.account.customers import ContractView, CustomerView, OffpeakView
from hortense.replies import formatting as fr
from hortense.replies.common import Reply, shortcuts, site_prefix
from hortense.replies.conversation import agree

MONTH_NAMES = [get_month_names("wide", locale="fr")[m] for m in range(1, 13)]


def pdl(customer: CustomerView, contract: ContractView) -> Reply:
    return Reply(
        f"{site_prefix(customer, contract)}Votre PDL (point de livraison) est le "
        f"{fr.pdl(contract.pdl)}.\nVous le retrouvez aussi sur vos factures, et sur votre compteur Linky "
        "en appuyant sur la touche « + » jusqu'à l'affichage « numéro de PRM »."
    )


def contract_number(customer: CustomerView, contract: ContractView) -> Reply:
    return Reply(f"{site_prefix(customer, contract)}Votre numéro de contrat est le {contract.contract_number}.")


def _range(r: OffpeakView) -> str:
    return f"de {fr.hour(r.start)} à {fr.hour(r.end)}"


def _ranges(ranges) -> str:
    parts = [_range(r) for r in ranges]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]


def offpeak(customer: CustomerView, contract: ContractView) -> Reply:
    prefix = site_prefix(customer, contract)
    if not contract.offpeak:
        return Reply(f"{prefix}Votre contrat n'a pas d'heures creuses : le prix du kWh est le même toute la journée.")
    seasons: dict[str, list[OffpeakView]] = {}
    for r in contract.offpeak:
        if r.season:
            seasons.setdefault(r.season, []).append(r)
    if not seasons:
        return Reply(f"{prefix}Vos heures creuses : tous les jours {_ranges(contract.offpeak)}.")
    lines = [f"{prefix}Vos heures creuses changent selon la saison :"]
    for name, ranges in seasons.items():
        start, end = ranges[0].season_start_month, ranges[0].season_end_month
        span = f" ({MONTH_NAMES[start - 1]} à {MONTH_NAMES[end - 1]})" if start and end else ""
        lines.append(f"• en {name}{span} : {_ranges(ranges)}")
    all_year = [r for r in contract.offpeak if not r.season]
    if all_year:
        lines.append(f"• toute l'année : {_ranges(all_year)}")
    return Reply("\n".join(lines))


def details(customer: CustomerView, contract: ContractView) -> Reply:
    monthly = agree(customer, "vous êtes mensualisé", "vous êtes mensualisée", "mensualisation")
    payment = (
        f"{monthly}, prélèvement le {contract.instalment_day} de chaque mois"
        if contract.monthly_payment and contract.instalment_day
        else monthly
        if contract.monthly_payment
        else "à réception de chaque facture"
    )
    lines = [
        f"{site_prefix(customer, contract)}Votre contrat {contract.contract_number} :",
        f"• offre : {contract.offer_label}",
        f"• début du contrat : {fr.short_date(contract.start_date)}",
        f"• puissance souscrite : {contract.subscribed_power_kva} kVA",
        f"• adresse : {contract.supply_address}, {contract.supply_postcode} {contract.supply_city}",
    ]
    asked = [
        "ask_pdl",
        "ask_offpeak_hours",
        "request_proof_of_address",
        "request_contract_document",
        "change_bank_details",
    ]
    if contract.resale_price_eur_per_kwh is not None:
        lines.append(f"• prix de rachat du surplus : {fr.price_per_kwh(contract.resale_price_eur_per_kwh)}")
    else:
        lines.append(f"• paiement : {payment}")
        if contract.monthly_payment:
            asked.append("ask_next_instalment")
    return Reply("\n".join(lines), shortcuts(*asked))
