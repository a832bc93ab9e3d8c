"""Billing: invoices and the monthly payment schedule (`invoices`), the checks on bank details a customer gives
for SEPA direct debit (`bank_details`), and the recorded change of bank details pending the mandate signature
(`bank_changes`)."""
