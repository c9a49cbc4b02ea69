"""Case numbers people can read; secrets kept only as slow hashes."""

from __future__ import annotations

import pytest

from schemas.signals import ImageMedia
from services.intake import domain


def test_case_numbers_are_readable_and_normalised_from_what_people_type() -> None:
    number = domain.new_case_number()
    assert number.startswith("HVN-") and len(number) == 15
    typed = number.lower().replace("-", " ")
    assert domain.normalise_case_number(typed) == number
    assert domain.normalise_case_number("hvn-0o1il-abcde") == "HVN-00111-ABCDE"
    with pytest.raises(ValueError, match="is not a case number"):
        domain.normalise_case_number("HVN-123")


def test_secret_has_at_least_128_bits_and_is_stored_as_scrypt() -> None:
    secret = domain.new_secret()
    assert len(secret) * 6 >= 128
    stored = domain.hash_secret(secret)
    assert stored.startswith("scrypt$") and secret not in stored
    assert domain.verify_secret(secret, stored)
    assert not domain.verify_secret(secret + "x", stored)
    assert not domain.verify_secret(secret, "md5$abc")


def test_open_case_gives_events_sharing_one_case_id() -> None:
    image = ImageMedia(pdq="a" * 64, quality=90, md5="b" * 32)
    opened, snapshot, secret = domain.open_case([image, image])
    assert opened.case_id == snapshot.case_id
    assert [item.media_id for item in opened.items] == ["m1", "m2"]
    assert domain.verify_secret(secret, snapshot.secret_hash)
