from django_countries import countries

from apps.network.geography import CONTINENT_NAMES, continent_countries, country_continent


def test_every_country_django_countries_knows_has_a_continent():
    missing = [code for code, _name in countries if not country_continent(code)]

    assert missing == []


def test_continents_are_the_seven():
    assert set(CONTINENT_NAMES) == {"AF", "AN", "AS", "EU", "NA", "OC", "SA"}
    assert {country_continent(code) for code, _ in countries} == set(CONTINENT_NAMES)


def test_country_continent_reads_any_case_and_knows_no_made_up_code():
    assert country_continent("de") == "EU"
    assert country_continent("JP") == "AS"
    assert country_continent("BR") == "SA"
    assert country_continent("XX") == ""
    assert country_continent("") == ""


def test_continent_countries_lists_a_continents_countries():
    europe = continent_countries("eu")

    assert {"DE", "FR", "RU"} <= set(europe)
    assert "US" not in europe
