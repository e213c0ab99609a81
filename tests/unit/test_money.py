import pytest

from payments.domain.errors import ValidationFailed
from payments.domain.money import MAX_AMOUNT, Money, amount_problems, minimum_amount, minor_unit_exponent


def test_currency_is_normalized_to_lowercase():
    assert Money.of(1000, "USD").currency == "usd"
    assert Money.of(1000, "eUr").currency == "eur"


@pytest.mark.parametrize(
    ("currency", "exponent"), [("usd", 2), ("jpy", 0), ("krw", 0), ("kwd", 3), ("bhd", 3)]
)
def test_minor_unit_exponents(currency, exponent):
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize("amount", [0, -1, -100])
def test_non_positive_amounts_are_refused(amount):
    assert amount_problems(amount, "usd")[0].field == "amount"


def test_maximum_is_stripes_eight_digits():
    assert amount_problems(MAX_AMOUNT, "usd") == []
    assert "at most" in amount_problems(MAX_AMOUNT + 1, "usd")[0].message


def test_minimum_depends_on_currency():
    assert minimum_amount("usd") == 50
    assert minimum_amount("gbp") == 30
    assert amount_problems(49, "usd")
    assert amount_problems(50, "usd") == []
    assert amount_problems(30, "gbp") == []


def test_three_decimal_amounts_must_be_multiples_of_ten():
    assert amount_problems(1005, "kwd")[0].message.startswith("must be a multiple of 10")
    assert amount_problems(1000, "kwd") == []


def test_unknown_currency_is_a_validation_error():
    with pytest.raises(ValidationFailed) as error:
        Money.of(100, "xyz")
    assert error.value.extra["param"] == "currency"


def test_money_refuses_floats_and_bools():
    with pytest.raises(TypeError):
        Money(10.5, "usd")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "usd")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(1234, "usd", "12.34 USD"), (500, "jpy", "500 JPY"), (1230, "kwd", "1.230 KWD")],
)
def test_format(amount, currency, text):
    assert Money(amount, currency).format() == text
