"""Ma conso / Mon surplus: consumption tables, virtual battery, injected surplus and the kitty."""

from __future__ import annotations

from decimal import Decimal

from hortense.account.customers import ContractView, CustomerView
from hortense.energy.consumption import BatteryStatus, ConsumptionHistory
from hortense.energy.monthly import MonthlyHistory
from hortense.energy.periods import Period, add_months
from hortense.energy.surplus import KittyUpdateView, SurplusHistory
from hortense.replies import formatting as fr
from hortense.replies.common import Button, Reply, shortcut, shortcuts, site_prefix


def period_label(period: Period) -> str:
    if period.start == period.end:
        return f"en {fr.month(period.start)}"
    return f"de {fr.month(period.start)} à {fr.month(period.end)}"


def _percent(part: Decimal, whole: Decimal) -> str:
    return "0" if not whole else str(int((part * 100 / whole).quantize(Decimal("1"))))


def first_reading(contract: ContractView) -> str:
    """When the first monthly reading comes: early in the month after the contract's first month."""
    first_month = contract.start_date.replace(day=1)
    arrives = add_months(first_month, 1)
    return (
        f"Le premier relevé mensuel (celui de {fr.month(first_month)}) arrivera début {fr.month(arrives)} ; "
        "je pourrai alors vous le donner ici."
    )


def _missing_readings(
    prefix: str,
    contract: ContractView,
    history: MonthlyHistory,
    reading: str,
    button: Button,
    none_yet: str | None = None,
) -> Reply | None:
    """Why there is nothing to show, when the period holds no `reading`: none at all yet (`none_yet` names it
    then), a period before the contract started, or a gap (the last 6 months are offered); None when there is."""
    started = fr.short_date(contract.start_date)
    if not history.has_any_data:
        return Reply(
            f"{prefix}Je n'ai pas encore de {none_yet or reading} : votre contrat a démarré le {started}. "
            f"{first_reading(contract)}"
        )
    if history.months:
        return None
    if history.period.end < contract.start_date.replace(day=1):
        return Reply(
            f"{prefix}Votre contrat a démarré le {started} : je n'ai donc pas de {reading} "
            f"{period_label(history.period)}."
        )
    return Reply(
        f"{prefix}Je n'ai pas de {reading} {period_label(history.period)}. Voulez-vous vos 6 derniers mois ?",
        (button,),
    )


def _consumption_part(prefix: str, history: ConsumptionHistory, focus: str) -> Reply:
    """ "et en heures creuses ?": the off-peak (or peak) part of the same months."""
    label = "heures creuses" if focus == "offpeak" else "heures pleines"
    part = (lambda m: m.offpeak_kwh) if focus == "offpeak" else (lambda m: m.peak_kwh)
    total_part = history.offpeak_kwh if focus == "offpeak" else history.peak_kwh
    lines = [f"{prefix}Votre consommation en {label} {period_label(history.period)} :"]
    lines += [f"• {fr.month(m.month)} : {fr.kwh(part(m))}" for m in history.months]
    lines.append(
        f"Total en {label} : {fr.kwh(total_part)}, soit {_percent(total_part, history.total_kwh)} % de "
        f"votre consommation ({fr.kwh(history.total_kwh)})."
    )
    return Reply("\n".join(lines))


def consumption(
    customer: CustomerView, contract: ContractView, history: ConsumptionHistory, focus: str | None = None
) -> Reply:
    prefix = site_prefix(customer, contract)
    missing = _missing_readings(prefix, contract, history, "relevé de consommation", shortcut("ask_consumption"))
    if missing is not None:
        return missing
    if focus in ("offpeak", "peak"):
        return _consumption_part(prefix, history, focus)
    lines = [f"{prefix}Votre consommation {period_label(history.period)} :"]
    for m in history.months:
        lines.append(
            f"• {fr.month(m.month)} : {fr.kwh(m.total_kwh)} (heures pleines {fr.kwh(m.peak_kwh)}, "
            f"heures creuses {fr.kwh(m.offpeak_kwh)})"
        )
    lines.append(
        f"Total : {fr.kwh(history.total_kwh)}, dont {_percent(history.offpeak_kwh, history.total_kwh)} % "
        "en heures creuses."
    )
    return Reply("\n".join(lines))


def battery(customer: CustomerView, contract: ContractView, status: BatteryStatus) -> Reply:
    prefix = site_prefix(customer, contract)
    if status.last_update is None:
        return Reply(
            f"{prefix}Votre batterie virtuelle est vide pour l'instant : elle se remplira avec le surplus "
            "de vos panneaux solaires, et vous verrez ici chaque mouvement."
        )
    lines = [
        f"{prefix}Votre batterie virtuelle contient {fr.kwh(status.level_kwh)} "
        f"(mise à jour du {fr.short_date(status.last_update)})."
    ]
    if status.month_movements and status.movements_month:
        lines.append(
            f"En {fr.month(status.movements_month)} : {fr.kwh(status.month_stored_kwh)} stockés, "
            f"{fr.kwh(status.month_used_kwh)} restitués."
        )
        for m in status.month_movements:
            sign = "+" if m.kwh > 0 else "−"
            lines.append(f"• {fr.short_date(m.occurred_on)} : {sign}{fr.kwh(abs(m.kwh))} ({m.label.lower()})")
    return Reply("\n".join(lines))


def surplus(customer: CustomerView, contract: ContractView, history: SurplusHistory) -> Reply:
    prefix = site_prefix(customer, contract)
    missing = _missing_readings(
        prefix, contract, history, "relevé de surplus", shortcut("ask_surplus"), none_yet="relevé de surplus injecté"
    )
    if missing is not None:
        return missing
    lines = [f"{prefix}Votre surplus injecté sur le réseau {period_label(history.period)} :"]
    lines += [f"• {fr.month(m.month)} : {fr.kwh(m.kwh)}" for m in history.months]
    lines.append(f"Total : {fr.kwh(history.total_kwh)}.")
    return Reply("\n".join(lines), shortcuts("ask_kitty"))


def kitty(customer: CustomerView, contract: ContractView, update: KittyUpdateView | None) -> Reply:
    prefix = site_prefix(customer, contract)
    if update is None:
        return Reply(
            f"{prefix}Votre cagnotte est encore à 0 € : elle est mise à jour chaque mois à partir du "
            "surplus injecté le mois précédent."
        )
    return Reply(
        f"{prefix}Votre cagnotte s'élève à {fr.eur(update.balance_eur)}.\n"
        f"Dernière mise à jour : {fr.month(update.month)}, {fr.kwh(update.kwh)} injectés × "
        f"{fr.price_per_kwh(update.price_eur_per_kwh)} = {fr.eur(update.amount_eur)}.\n"
        "Elle est recalculée chaque mois à partir de votre surplus injecté.",
        shortcuts("ask_surplus", "book_appointment"),
    )
