"""Which continent each country is on: the region a mirror's country places it in.

A table of facts: ISO 3166-1 alpha-2 code to continent, as GeoNames assigns them (a country on
two continents is where GeoNames puts it: Russia in Europe, Turkey in Asia). django-countries
knows the codes and their names, not their continents; tests/network/test_geography.py checks
that every code it knows is here.
"""

CONTINENT_NAMES = {
    "AF": "Africa",
    "AN": "Antarctica",
    "AS": "Asia",
    "EU": "Europe",
    "NA": "North America",
    "OC": "Oceania",
    "SA": "South America",
}

_COUNTRIES_BY_CONTINENT = {
    "AF": "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM"
    " LR LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD"
    " TG TN TZ UG YT ZA ZM ZW",
    "AN": "AQ BV GS HM TF",
    "AS": "AE AF AM AZ BD BH BN BT CC CN CX GE HK ID IL IN IO IQ IR JO JP KG KH KP KR"
    " KW KZ LA LB LK MM MN MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TR TW"
    " UZ VN YE",
    "EU": "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE"
    " IM IS IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM"
    " UA VA",
    "NA": "AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC"
    " MF MQ MS MX NI PA PM PR SV SX TC TT US VC VG VI",
    "OC": "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS",
    "SA": "AR BO BR CL CO EC FK GF GY PE PY SR UY VE",
}

CONTINENT_OF_COUNTRY: dict[str, str] = {
    country: continent
    for continent, countries in _COUNTRIES_BY_CONTINENT.items()
    for country in countries.split()
}


def country_continent(country: str) -> str:
    """The continent code (``EU``) of an ISO 3166-1 alpha-2 country code; ``""`` if none."""
    return CONTINENT_OF_COUNTRY.get((country or "").upper(), "")


def continent_countries(continent: str) -> list[str]:
    """The country codes on a continent, for selecting mirrors by region."""
    return sorted(c for c, cont in CONTINENT_OF_COUNTRY.items() if cont == continent.upper())
