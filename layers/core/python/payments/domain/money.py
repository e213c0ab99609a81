"""Money: an integer amount in the currency's minor unit, and the currency rules Stripe applies.

Never a float: amounts are ints from the wire to Stripe and back.
"""

from __future__ import annotations

from dataclasses import dataclass

from payments.domain.errors import FieldError, ValidationFailed

MAX_AMOUNT = 99_999_999  # Stripe's maximum charge, in minor units (8 digits)

# Currency code lists are kept as text, one line per group, to stay readable.
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())  # noqa: SIM905
# Stripe takes three-decimal currencies only in multiples of 10 (the last digit must be 0).
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())  # noqa: SIM905

# ISO 4217 codes Stripe settles card payments in (the common set; extend with care).
SUPPORTED = frozenset(
    """
    aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn bzd cad cdf
    chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg
    huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk
    mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub
    rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx usd uyu uzs
    vnd vuv wst xaf xcd xof xpf yer zar zmw
    """.split()  # noqa: SIM905
)

# Stripe's minimum charge per currency, in minor units; others: the equivalent of 0.50 USD, which we
# approximate by 50 minor units (Stripe still has the last word and answers amount_too_small).
_MINIMUMS = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
    "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
    "bhd": 200, "jod": 400, "kwd": 200, "omr": 200, "tnd": 2000,
}  # fmt: skip


def minor_unit_exponent(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def minimum_amount(currency: str) -> int:
    return _MINIMUMS.get(currency, 50 if minor_unit_exponent(currency) else 1)


def normalize_currency(value: str) -> str:
    """Currencies are accepted in any case and stored lowercase."""
    currency = value.strip().lower()
    if currency not in SUPPORTED:
        raise ValidationFailed([FieldError("currency", f"unsupported currency {value[:8]!r}")])
    return currency


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int in Python; a True amount is a bug, not one cent.
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int in minor units")

    @classmethod
    def of(cls, amount: int, currency: str, *, field: str = "amount") -> Money:
        """A chargeable amount: positive, within Stripe's bounds and the currency's granularity."""
        currency = normalize_currency(currency)
        problems = amount_problems(amount, currency, field=field)
        if problems:
            raise ValidationFailed(problems)
        return cls(amount, currency)

    def format(self) -> str:
        exponent = minor_unit_exponent(self.currency)
        if exponent == 0:
            return f"{self.amount} {self.currency.upper()}"
        whole, fraction = divmod(abs(self.amount), 10**exponent)
        sign = "-" if self.amount < 0 else ""
        return f"{sign}{whole}.{fraction:0{exponent}d} {self.currency.upper()}"


def amount_problems(
    amount: int, currency: str, *, field: str = "amount", check_minimum: bool = True
) -> list[FieldError]:
    """Every reason `amount` cannot be charged or refunded in `currency` (empty when it can)."""
    if amount <= 0:
        return [FieldError(field, "must be a positive integer in the currency's minor unit")]
    problems = []
    if amount > MAX_AMOUNT:
        problems.append(FieldError(field, f"must be at most {MAX_AMOUNT}"))
    if check_minimum and amount < minimum_amount(currency):
        problems.append(FieldError(field, f"must be at least {minimum_amount(currency)} for {currency}"))
    if currency in THREE_DECIMAL and amount % 10:
        problems.append(
            FieldError(field, f"must be a multiple of 10 for {currency} (three-decimal currency)")
        )
    return problems
