"""The measure catalogue: breakdown dimensions, measure definitions and program measure sets.

Definitions are seeded into the database from here; the running application reads them from the
database (`MeasureSpec.from_model`) so that a reworded name never needs a code change.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DIMENSIONS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "age": ("Age", (("minor", "Minor (under 18)"), ("adult", "Adult (18+)"), ("unknown", "Unknown"))),
    "trafficking_type": (
        "Trafficking type",
        (("sex", "Sex"), ("labor", "Labor"), ("both", "Both sex and labor"), ("unknown", "Unknown")),
    ),
    "citizenship": (
        "Citizenship",
        (
            ("us_citizen", "U.S. citizen"),
            ("lpr", "Lawful permanent resident"),
            ("foreign_national", "Foreign national"),
            ("unknown", "Unknown"),
        ),
    ),
    "service": (
        "Service",
        (
            ("case_management", "Case management"),
            ("housing", "Housing/shelter"),
            ("medical", "Medical care"),
            ("mental_health", "Mental health"),
            ("legal", "Legal services"),
            ("education", "Education"),
            ("employment", "Employment"),
            ("basic_needs", "Basic needs"),
            ("transportation", "Transportation"),
            ("interpretation", "Interpretation"),
            ("other", "Other"),
        ),
    ),
    "partnership": (
        "Partnership type",
        (
            ("referral", "Referral"),
            ("information_sharing", "Information sharing"),
            ("joint_programming", "Joint programming"),
            ("subrecipient", "Subrecipient"),
        ),
    ),
    "sector": (
        "Sector",
        (
            ("health_care", "Health care"),
            ("social_services", "Social services"),
            ("law_enforcement", "Law enforcement"),
            ("education", "Education"),
            ("child_welfare", "Child welfare"),
            ("other", "Other"),
        ),
    ),
}


def dimension_label(code: str) -> str:
    return DIMENSIONS[code][0]


def categories(code: str) -> tuple[tuple[str, str], ...]:
    return DIMENSIONS[code][1]


# code, name, value type, help text, breakdowns, per-category dimension, point in time, people count
MEASURES: tuple[tuple, ...] = (
    ("CLI-01", "Clients served in the period", "count",
     "Unduplicated survivors who received any service during the reporting period.",
     ("age", "trafficking_type", "citizenship"), None, False, True),
    ("CLI-02", "New clients enrolled", "count",
     "Clients whose intake happened during the period. Cannot exceed clients served.", (), None, False, True),
    ("CLI-03", "Cases closed", "count",
     "Client cases closed during the period. Cannot exceed clients served.", (), None, False, True),
    ("CLI-04", "Family members served", "count",
     "Family members of survivors who received services during the period.", (), None, False, True),
    ("CLI-05", "Referred clients matched to a provider within 48 hours", "percent",
     "Percent of referred clients connected to a service provider within 48 hours, 0 to 100.",
     (), None, False, False),
    ("SRV-01", "Clients receiving each service", "count",
     "Clients who received each service. A client can receive several services; no service "
     "can exceed clients served.", (), "service", False, True),
    ("SRV-02", "Referrals made to partner agencies", "count",
     "Referrals your organization made to partner agencies during the period.", (), None, False, False),
    ("PRT-01", "Active partnerships at period end", "count",
     "Partnerships active on the last day of the period, by type.", ("partnership",), None, True, False),
    ("PRT-02", "Formal agreements (MOUs) in effect at period end", "count",
     "Memoranda of understanding or other formal agreements in effect on the last day of the period.",
     (), None, True, False),
    ("TRN-01", "Training sessions delivered", "count",
     "Training sessions for professionals delivered during the period.", (), None, False, False),
    ("TRN-02", "Professionals trained", "count",
     "Professionals who completed a training during the period, by sector.", ("sector",), None, False, False),
    ("OUT-01", "Outreach and awareness events", "count",
     "Community outreach and awareness events held during the period.", (), None, False, False),
    ("OUT-02", "People reached by outreach", "count",
     "Estimated number of people reached by outreach events.", (), None, False, False),
    ("EDU-01", "Schools implementing prevention education", "count",
     "Schools delivering the prevention education curriculum during the period.", (), None, False, False),
    ("EDU-02", "Educators and school staff trained", "count",
     "Educators and school staff who completed prevention training.", (), None, False, False),
    ("EDU-03", "Students reached", "count",
     "Students who received prevention education during the period.", (), None, False, False),
    ("EDU-04", "Trained educators reporting increased confidence", "percent",
     "Percent of trained educators who reported increased confidence, 0 to 100.", (), None, False, False),
    ("CCR-01", "Coordinated-response team meetings held", "count",
     "Meetings of the community's coordinated-response team during the period.", (), None, False, False),
    ("CCR-02", "Youth screened for trafficking indicators", "count",
     "Youth screened with a validated trafficking-indicator tool during the period.", (), None, False, False),
    ("CCR-03", "Youth identified as trafficked or at risk", "count",
     "Screened youth identified as trafficked or at risk, by trafficking type. Cannot exceed youth "
     "screened.", ("trafficking_type",), None, False, True),
    ("FIN-01", "Federal funds expended in the period", "currency",
     "Federal funds spent during the period, in dollars and cents. Cumulative spending cannot "
     "exceed the award amount.", (), None, False, False),
)

_DVHT = ("CLI-01", "CLI-02", "CLI-03", "CLI-04", "SRV-01", "SRV-02", "PRT-01", "TRN-01", "TRN-02",
         "OUT-01", "OUT-02", "FIN-01")
PROGRAMS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("YCCR", "Youth Community-Coordinated Response", "Office on Trafficking in Persons",
     ("CLI-01", "CLI-02", "CLI-03", "SRV-01", "SRV-02", "PRT-01", "PRT-02", "TRN-01", "TRN-02",
      "CCR-01", "CCR-02", "CCR-03", "FIN-01")),
    ("DVHT", "Domestic Victims of Human Trafficking Services and Outreach",
     "Office on Trafficking in Persons", _DVHT),
    ("VHTNC", "Victims of Human Trafficking in Native Communities", "Office on Trafficking in Persons",
     _DVHT[:-1] + ("CCR-01", "FIN-01")),
    ("ASPIRE", "Aspire: Child Trafficking Victim Assistance", "Office on Trafficking in Persons",
     ("CLI-01", "CLI-02", "CLI-03", "CLI-04", "CLI-05", "SRV-01", "SRV-02", "FIN-01")),
    ("HTYPE", "Human Trafficking Youth Prevention Education", "Office on Trafficking in Persons",
     ("EDU-01", "EDU-02", "EDU-03", "EDU-04", "OUT-01", "OUT-02", "TRN-01", "FIN-01")),
)

# Cross-measure ceilings: (measure, dimension or None for every cell, must not exceed measure).
CEILINGS: tuple[tuple[str, str, str], ...] = (
    ("CLI-02", "", "CLI-01"),
    ("CLI-03", "", "CLI-01"),
    ("SRV-01", "service", "CLI-01"),
    ("CCR-03", "", "CCR-02"),
)

NARRATIVES: tuple[tuple[str, str, str], ...] = (
    ("narrative_accomplishments", "Accomplishments against objectives",
     "What you accomplished this period, compared with the objectives of the award. Required."),
    ("narrative_goals_not_met", "Goals not met and why", "Any objective not met, and the reasons."),
    ("narrative_developments", "Significant developments, problems or delays",
     "Events that affected the project, and what you are doing about them."),
    ("narrative_next_period", "Plans for the next period", "Activities planned for the next reporting period."),
)
CUMULATIVE_NARRATIVE = (
    "narrative_cumulative", "Cumulative accomplishments for the whole award",
    "Final report only: what the project accomplished over the whole period of performance.",
)
NARRATIVE_MAX_LENGTH = 10_000


def cell_key(measure: str, dimension: str = "", category: str = "") -> str:
    """How a cell is named everywhere (forms, uploads, roll-ups): the measure code for its total,
    else code.dimension.category. (`grants.models.CELL_KEY_SQL`, the
    database's `report_value.cell`, writes the same in SQL.)"""
    return f"{measure}.{dimension}.{category}" if dimension else measure


@dataclass(frozen=True)
class Cell:
    """One input of a measure: the total (dimension '') or one category of a dimension."""

    measure: str
    dimension: str = ""
    category: str = ""

    @property
    def key(self) -> str:
        return cell_key(self.measure, self.dimension, self.category)

    @classmethod
    def parse(cls, key: str) -> Cell:
        parts = key.split(".")
        return cls(parts[0]) if len(parts) == 1 else cls(parts[0], parts[1], parts[2])


@dataclass(frozen=True)
class MeasureSpec:
    """A measure as the rules see it: plain values, no database session."""

    code: str
    name: str
    value_type: str
    help_text: str = ""
    breakdowns: tuple[str, ...] = ()
    per_category: str | None = None
    point_in_time: bool = False
    people_count: bool = False
    cells: tuple[Cell, ...] = field(default=(), compare=False)

    @classmethod
    def build(cls, code, name, value_type, help_text="", breakdowns=(), per_category=None,
              point_in_time=False, people_count=False) -> MeasureSpec:
        if per_category:
            cells = tuple(Cell(code, per_category, c) for c, _ in categories(per_category))
        else:
            cells = (Cell(code),) + tuple(
                Cell(code, d, c) for d in breakdowns for c, _ in categories(d)
            )
        return cls(code, name, value_type, help_text, tuple(breakdowns), per_category,
                   point_in_time, people_count, cells)

    @classmethod
    def from_model(cls, m) -> MeasureSpec:
        return cls.build(m.code, m.name, m.value_type, m.help_text, tuple(m.breakdowns or ()),
                         m.per_category, m.point_in_time, m.people_count)

    @property
    def has_total(self) -> bool:
        return self.per_category is None


CATALOG: dict[str, MeasureSpec] = {row[0]: MeasureSpec.build(*row) for row in MEASURES}


def specs_for_program(code: str) -> list[MeasureSpec]:
    """The catalogue's measure list for a program (used by seeding and tests)."""
    for program_code, _, _, measure_codes in PROGRAMS:
        if program_code == code:
            return [CATALOG[c] for c in measure_codes]
    raise KeyError(code)


def category_label(cell: Cell) -> str:
    """A breakdown cell's category for people: 'Minor (under 18)'."""
    return dict(categories(cell.dimension))[cell.category]


def cell_label(spec: MeasureSpec, cell: Cell) -> str:
    """A cell for people: 'Clients served in the period, age: Minor (under 18)'."""
    if not cell.dimension:
        return spec.name
    category = category_label(cell)
    if not spec.has_total:
        return f"{spec.name}: {category}"
    return f"{spec.name}, {dimension_label(cell.dimension).lower()}: {category}"


def column_heading(spec: MeasureSpec, cell: Cell) -> str:
    """A cell as a column's heading, short: 'CLI-01 Clients served in the period' for a total,
    'CLI-01 Age: Minor (under 18)' for a breakdown category (its measure is the total's column)."""
    if not cell.dimension:
        return f"{spec.code} {spec.name}"
    return f"{spec.code} {dimension_label(cell.dimension)}: {category_label(cell)}"


def breakdown_key(code: str, dimension: str) -> str:
    """The key of a whole breakdown ('CLI-01.age'), whose sum validation checks against the total."""
    return f"{code}.{dimension}"


def is_breakdown_key(key: str) -> bool:
    return key.count(".") == 1  # a cell's key has no dot (a total) or two (a category)


def breakdown_title(key: str) -> str:
    """A person's name for a breakdown key: 'CLI-01 Age'."""
    code, dimension = key.split(".")
    return f"{code} {dimension_label(dimension)}"


def cell_title(specs: list[MeasureSpec], key: str) -> str:
    """A person's name for a cell key: 'SRV-01 Clients receiving each service: Housing/shelter'."""
    if not key:
        return "Whole report"
    cell = Cell.parse(key)
    name = next((s.name for s in specs if s.code == cell.measure), "")
    title = f"{cell.measure} {name}".strip()
    if cell.dimension:
        title += f": {dict(categories(cell.dimension)).get(cell.category, cell.category)}"
    return title
