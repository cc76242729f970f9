"""HHS regions (1-10) by state or territory, so a community's region is derived, never typed."""

HHS_REGIONS: dict[int, tuple[str, ...]] = {
    1: ("CT", "ME", "MA", "NH", "RI", "VT"),
    2: ("NJ", "NY", "PR", "VI"),
    3: ("DE", "DC", "MD", "PA", "VA", "WV"),
    4: ("AL", "FL", "GA", "KY", "MS", "NC", "SC", "TN"),
    5: ("IL", "IN", "MI", "MN", "OH", "WI"),
    6: ("AR", "LA", "NM", "OK", "TX"),
    7: ("IA", "KS", "MO", "NE"),
    8: ("CO", "MT", "ND", "SD", "UT", "WY"),
    9: ("AZ", "CA", "HI", "NV", "AS", "GU", "MP"),
    10: ("AK", "ID", "OR", "WA"),
}
REGION_OF_STATE = {state: region for region, states in HHS_REGIONS.items() for state in states}
STATES = tuple(sorted(REGION_OF_STATE))


def hhs_region(state: str) -> int:
    """The HHS region of a two-letter state code; KeyError for an unknown code."""
    return REGION_OF_STATE[state.upper()]
