"""Every ledger scenario ends with the books balanced, read through the API."""

from tests.support.ledger import trial_balance_stays_zero  # noqa: F401 (autouse)
