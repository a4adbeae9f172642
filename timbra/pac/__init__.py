"""The service layer: every business decision (stamping, issuing, accounts, credits, vault, delivery)."""
