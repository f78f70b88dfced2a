"""`Prebuilt` serializers: built once per thread, they validate and answer exactly as a new serializer would,
and nothing of one call is left for the next."""

import threading
from decimal import Decimal

import pytest
from djmoney.money import Money
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from hubs.kernel.api import MoneyField, Prebuilt


class LineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=8)
    quantity = serializers.IntegerField(min_value=1)


class BasketSerializer(serializers.Serializer):
    name = serializers.CharField()
    price = MoneyField()
    lines = LineSerializer(many=True, min_length=1)


GOOD = {"name": "A", "price": {"amount": "12.50", "currency": "CNY"}, "lines": [{"sku": "X1", "quantity": 2}]}
BAD = [
    {"name": "A", "price": {"amount": "12.50"}, "lines": [{"sku": "X1", "quantity": 0}]},
    {"price": {"amount": "x", "currency": "CNY"}, "lines": []},
    {"name": "A", "price": {"amount": "1", "currency": "CNY"}, "lines": [{"sku": "TOOLONGSKU", "quantity": 1}]},
    ["not", "an", "object"],
    None,
]


def fresh_errors(data):
    serializer = BasketSerializer(data=data)
    with pytest.raises(ValidationError) as refused:
        serializer.is_valid(raise_exception=True)
    return refused.value.detail


def test_validation_refuses_and_accepts_as_a_new_serializer_does_whatever_came_before():
    prebuilt = Prebuilt(BasketSerializer)
    for data in [*BAD, GOOD, *reversed(BAD), GOOD]:
        if data is GOOD:
            fresh = BasketSerializer(data=data)
            assert fresh.is_valid()
            values = prebuilt.validate(data)
            assert values == fresh.validated_data
            assert values["price"] == Money(Decimal("12.50"), "CNY")
            assert values["lines"] == [{"sku": "X1", "quantity": 2}]
            continue
        with pytest.raises(ValidationError) as refused:
            prebuilt.validate(data)
        assert refused.value.detail == fresh_errors(data)


def test_an_answer_is_what_a_new_serializer_gives():
    basket = {"name": "A", "price": Money("12.50", "CNY"), "lines": [{"sku": "X1", "quantity": 2}]}
    assert Prebuilt(BasketSerializer).represent(basket) == BasketSerializer(basket).data


def test_each_thread_has_its_own_serializer():
    prebuilt = Prebuilt(BasketSerializer)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(prebuilt._serializer())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen[0] is not seen[1]
    assert prebuilt._serializer() is prebuilt._serializer()
