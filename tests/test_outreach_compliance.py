"""The recipient's time zones from an E.164 number, without phonenumbers.parse, agree with parse.

Quiet hours themselves are tested in tests/test_outreach_cli.py."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as phone_timezone

from outreach.compliance import e164_number

TYPES = [getattr(PhoneNumberType, name) for name in (
    "FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE", "TOLL_FREE", "PREMIUM_RATE", "SHARED_COST", "VOIP",
    "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL")]


def _examples():
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            num = phonenumbers.example_number_for_type(region, kind)
            if num is not None and phonenumbers.is_valid_number(num):
                yield phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        num = phonenumbers.example_number_for_non_geo_entity(cc)
        if num is not None:
            yield phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    # leading zeros (Italy keeps them in E.164), and an all-zero national number
    yield from ("+390612345678", "+39000123", "+3900", "+13125550101", "+447700900123")


def test_every_example_number_is_built_as_parse_builds_it():
    examples = sorted(set(_examples()))
    assert len(examples) > 1000
    for e164 in examples:
        parsed = phonenumbers.parse(e164, None)
        assert e164_number(e164) == parsed, e164
        assert phone_timezone.time_zones_for_number(e164_number(e164)) == \
            phone_timezone.time_zones_for_number(parsed), e164


@pytest.mark.parametrize("text", ["", "+", "13125550101", "+1-312", "+٣١٢", "+999123"])
def test_what_is_not_e164_is_left_to_parse(text):
    assert e164_number(text) is None


def test_phone_region_by_area_code_is_the_numbers_own():
    """phone_region looks up each area code (and country code) once; the same answer as asking
    phonenumbers about the very number, for every region's example number and US/Canada area codes."""
    import phonenumbers
    from phonenumbers import geocoder

    from outreach.compliance import _STATES, phone_region
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        if example is None:
            continue
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        country, state = phone_region(e164)
        assert country == (phonenumbers.region_code_for_number(example) or "").lower(), e164
        if country in ("us", "ca"):
            place = geocoder.description_for_number(example, "en").rsplit(", ", 1)[-1]
            assert state == (place.lower() if len(place) == 2 else _STATES.get(place, "")), e164
    for e164, expected in (("+13055550123", ("us", "fl")), ("+14055550100", ("us", "ok")),
                           ("+16045550100", ("ca", "bc")), ("+442079460000", ("gb", ""))):
        assert phone_region(e164) == expected
