"""Address analysis, offline: usaddress for the street line, the ZIP table for ZIP → state."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftershow.orders.models import Address
from aftershow.risk.addresses import analyse_address, is_po_box_line
from aftershow.risk.findings import Finding
from aftershow.risk.ziptable import (
    decode,
    encode,
    from_zipcodes,
    state_codes,
    zip_state,
    zip_states,
)
from aftershow.sandbox.tiktok.addresses import AddressKind, make_recipient


def build(**fields: str) -> Address:
    values = {
        "line1": "350 Fifth Avenue",
        "line2": "Apt 21B",
        "city": "New York",
        "state": "NY",
        "postal_code": "10118",
        "country": "US",
    }
    values.update(fields)
    return Address(**values)


def reasons(address: Address | None) -> list[str]:
    return [finding.render() for finding in analyse_address(address).problems]


def test_a_complete_address_has_no_problem() -> None:
    report = analyse_address(build())
    assert (report.problems, report.state, report.is_po_box, report.is_military) == (
        (),
        "NY",
        False,
        False,
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"line1": "Main St"}, ["No street number in “Main St”"]),
        (
            {"line1": "Martin Luther King Jr Blvd"},
            ["No street number in “Martin Luther King Jr Blvd”"],
        ),
        ({"line1": "5th Ave"}, ["No street number in “5th Ave”"]),
        ({"line1": "", "line2": ""}, ["Street address missing"]),
        ({"line1": "CMR 450 Box 12"}, ["Street address “CMR 450 Box 12” could not be parsed"]),
        ({"postal_code": ""}, ["ZIP code missing"]),
        ({"postal_code": "1011"}, ["ZIP code “1011” is not 5 digits or ZIP+4"]),
        ({"postal_code": "101188"}, ["ZIP code “101188” is not 5 digits or ZIP+4"]),
        ({"postal_code": "00000"}, ["ZIP code 00000 does not exist"]),
        ({"state": "NV", "postal_code": "90026"}, ["ZIP code 90026 is in CA, not NV"]),
        ({"city": ""}, ["City missing"]),
        ({"state": ""}, ["State missing"]),
        ({"state": "ZZ"}, ["Unknown state “ZZ”"]),
        ({"country": "CA"}, ["Destination country CA: only US addresses are checked"]),
        (
            {"line1": "Main St", "city": "", "state": "", "postal_code": ""},
            ["No street number in “Main St”", "City missing", "State missing", "ZIP code missing"],
        ),
    ],
)
def test_each_problem_is_named_with_its_values(fields: dict[str, str], expected: list[str]) -> None:
    assert reasons(build(**fields)) == expected


def test_no_address_at_all() -> None:
    assert reasons(None) == ["No shipping address"]


def test_zip_plus_four_and_lower_case_state_are_accepted() -> None:
    assert reasons(build(postal_code="10118-0110", state="ny")) == []
    assert reasons(build(postal_code="101180110")) == []


def test_zip_state_is_used_when_no_state_is_given() -> None:
    assert analyse_address(build(state="", postal_code="99501", city="Anchorage")).state == "AK"


@pytest.mark.parametrize(
    "line",
    ["PO Box 123", "P.O. Box 5", "Post Office Box 77", "POB 12", "PO BOX 9", "p o box 4", "Box 88"],
)
def test_po_box_spellings(line: str) -> None:
    report = analyse_address(build(line1=line, line2=""))
    assert (report.is_po_box, report.problems) == (True, ())


def test_po_box_on_the_second_line() -> None:
    assert analyse_address(build(line1="12 Main St", line2="PO Box 7")).is_po_box is True


@pytest.mark.parametrize("line", ["12 Boxwood Ln", "350 Fifth Avenue", "1 Post Office Sq", ""])
def test_streets_are_not_po_boxes(line: str) -> None:
    assert is_po_box_line(line) is False


@pytest.mark.parametrize(
    ("line1", "city", "state", "postal_code"),
    [
        ("PSC 1234 Box 567", "APO", "AE", "09021"),
        ("Unit 2050 Box 4190", "DPO", "AA", "34002"),
        ("CMR 450 Box 12", "FPO", "AP", "96205"),
    ],
)
def test_military_addresses_need_no_street_and_are_not_po_boxes(
    line1: str, city: str, state: str, postal_code: str
) -> None:
    report = analyse_address(
        build(line1=line1, line2="", city=city, state=state, postal_code=postal_code)
    )
    assert (report.problems, report.is_po_box, report.is_military) == ((), False, True)


def test_military_zip_must_match_its_armed_forces_state() -> None:
    address = build(line1="PSC 1 Box 2", line2="", city="APO", state="AP", postal_code="09021")
    assert reasons(address) == ["ZIP code 09021 is in AE, not AP"]


def test_every_sandbox_address_kind_is_judged_as_the_sandbox_means_it() -> None:
    """The sandbox builds its addresses from real ZIP rows; 200 of each kind, all as meant."""
    rng = random.Random(7)
    expected_codes = {
        AddressKind.VALID: set(),
        AddressKind.REMOTE: set(),
        AddressKind.MILITARY: set(),
        AddressKind.PO_BOX: set(),
        AddressKind.MISSING_STREET_NUMBER: {"street_number_missing"},
        AddressKind.MISSING_ZIP: {"zip_missing"},
        AddressKind.ZIP_STATE_MISMATCH: {"zip_state_mismatch"},
    }
    for kind, codes in expected_codes.items():
        for _ in range(200):
            recipient = make_recipient(rng, kind)
            report = analyse_address(
                Address(
                    line1=recipient.address_line1,
                    line2=recipient.address_line2,
                    city=recipient.city,
                    state=recipient.state,
                    postal_code=recipient.postal_code,
                )
            )
            assert {problem.code for problem in report.problems} == codes, recipient
            assert report.is_po_box is (kind is AddressKind.PO_BOX), recipient
            assert report.is_military is (kind is AddressKind.MILITARY), recipient


text = st.text(max_size=80)


@settings(max_examples=300, deadline=None)
@given(line1=text, line2=text, city=text, state=text, postal_code=text, country=text)
def test_any_text_gives_findings_never_an_exception(
    line1: str, line2: str, city: str, state: str, postal_code: str, country: str
) -> None:
    report = analyse_address(
        Address(
            line1=line1,
            line2=line2,
            city=city,
            state=state,
            postal_code=postal_code,
            country=country,
        )
    )
    assert all(isinstance(problem, Finding) for problem in report.problems)
    for problem in report.problems:
        problem.render()


def test_zip_table_round_trips() -> None:
    pairs = {"00501": "NY", "00544": "NY", "00601": "PR", "00602": "PR", "90026": "CA"}
    assert decode(encode(pairs, source="test")) == pairs


def test_zip_table_equals_the_zipcodes_package() -> None:
    """A zipcodes upgrade that changes ZIPs fails here until the table is regenerated with
    ``python -m aftershow.risk.ziptable``."""
    pairs, _ = from_zipcodes()
    assert zip_states() == pairs
    assert len(pairs) == 42_789


def test_zip_lookup_by_runs_equals_the_full_table() -> None:
    """``zip_state`` (binary search over the file's runs) answers as the decoded table does,
    for every ZIP from 00000 to 99999: present ones with their state, absent ones with ""."""
    table = zip_states()
    assert [zip_state(f"{number:05d}") for number in range(100_000)] == [
        table.get(f"{number:05d}", "") for number in range(100_000)
    ]
    assert state_codes() == frozenset(table.values())
    assert (zip_state("9002"), zip_state("9002a"), zip_state("")) == ("", "", "")
