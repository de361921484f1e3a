"""Column mappings: which column of a tabular file feeds which Declaration field.

A mapping is YAML validated by pydantic. Built-in mappings live in ``ingest/mappings/`` and are
named by file stem; any other layout is described by a YAML file of the same shape::

    name: my-layout
    delimiter: ","
    decimal: "."                     # or ","; with ",", numbers are written without thousands separators
    date_format: "%Y-%m-%d"          # strptime format of the date column(s)
    fields:                          # Declaration field -> column header
      declaration_ref: Declaration ID
      filed_at: Date
      ...
    outcomes:                        # optional: columns that hold inspection results
      fraud: {column: Fraud, true_values: ["1"], false_values: ["0"]}
      critical: {column: Critical Fraud, true_values: ["2"], false_values: ["0", "1"]}
      received_at: null              # column of the result's receipt time, if the file has one
      received_after_days: 1         # else: received this many days after filing
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scheldt.errors import ConfigError
from scheldt.yaml_text import load_yaml

#: Declaration fields a mapping may fill; the first group is required in every row.
REQUIRED_FIELDS = (
    "declaration_ref",
    "filed_at",
    "hs_code",
    "origin_country",
    "departure_country",
    "net_mass_kg",
    "value",
)
OPTIONAL_FIELDS = (
    "office_code",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "transport_mode",
    "tax_rate_pct",
    "tax_type",
    "origin_indicator",
    "currency",
    "bill_of_lading_ref",
    "container_numbers",
    "declarant_id",
    "importer_id",
    "seller_id",
    "courier_id",
)


class LabelColumn(BaseModel):
    """A column holding a yes/no inspection finding, with the values meaning yes and no."""

    model_config = ConfigDict(extra="forbid")
    column: str
    true_values: list[str] = Field(min_length=1)
    false_values: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _disjoint(self) -> LabelColumn:
        both = sorted(set(self.true_values) & set(self.false_values))
        if both:
            raise ValueError(f"value(s) {both} are both true and false")
        return self


class OutcomeColumns(BaseModel):
    """Where the inspection outcome sits in the file, and when it counts as received."""

    model_config = ConfigDict(extra="forbid")
    fraud: LabelColumn
    critical: LabelColumn | None = None
    received_at: str | None = None
    received_after_days: float = Field(default=0.0, ge=0)

    @property
    def columns(self) -> list[str]:
        """Every header this outcome mapping reads."""
        cols = [self.fraud.column] + ([self.critical.column] if self.critical else [])
        return cols + ([self.received_at] if self.received_at else [])


class DeclarationMapping(BaseModel):
    """A validated column mapping for declaration files (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    source: str = ""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    decimal: Literal[".", ","] = "."
    date_format: str = "%Y-%m-%d"
    fields: dict[str, str]
    outcomes: OutcomeColumns | None = None

    @field_validator("date_format")
    @classmethod
    def _date_format_round_trips(cls, value: str) -> str:
        sample = datetime(2021, 4, 7, 13, 45, 30)
        try:
            parsed = datetime.strptime(sample.strftime(value), value)
        except ValueError as exc:
            raise ValueError(f"date format {value!r} cannot be read back: {exc}") from None
        if parsed.date() != sample.date():
            raise ValueError(f"date format {value!r} does not give year, month and day")
        return value

    @model_validator(mode="after")
    def _check_fields(self) -> DeclarationMapping:
        known = set(REQUIRED_FIELDS) | set(OPTIONAL_FIELDS)
        unknown = sorted(set(self.fields) - known)
        if unknown:
            raise ValueError(f"unknown declaration field(s) {unknown}; known: {sorted(known)}")
        missing = [f for f in REQUIRED_FIELDS if f not in self.fields]
        if missing:
            raise ValueError(f"required field(s) {missing} are not mapped to a column")
        by_column: dict[str, list[str]] = {}
        for name, column in self.fields.items():
            by_column.setdefault(column, []).append(name)
        twice = {c: names for c, names in by_column.items() if len(names) > 1}
        if twice:  # a review's value and net mass both read "Item Price"
            column, names = next(iter(twice.items()))
            raise ValueError(f"column {column!r} is mapped to {' and '.join(names)}: each field needs a column of its own")
        return self

    def missing_columns(self, header: list[str], with_outcomes: bool) -> list[str]:
        """Mapped columns absent from ``header`` (declaration fields, and outcomes if asked)."""
        wanted = list(self.fields.values())
        if with_outcomes and self.outcomes:
            wanted += self.outcomes.columns
        return [c for c in wanted if c not in header]


def builtin_mapping_names() -> list[str]:
    """Names of the mappings that ship with Scheldt."""
    folder = files(__package__).joinpath("mappings")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_mapping(name_or_path: str) -> DeclarationMapping:
    """Load a built-in mapping by name or a YAML mapping file by path.

    Raises ConfigError naming the file and the invalid field when the YAML is not a valid mapping,
    and when neither a built-in name nor an existing file matches.
    """
    if name_or_path in builtin_mapping_names():
        text = files(__package__).joinpath("mappings", f"{name_or_path}.yaml").read_text("utf-8")
        where = f"built-in mapping {name_or_path}"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ConfigError(
                f"--mapping {name_or_path}",
                f"no built-in mapping of that name ({', '.join(builtin_mapping_names())}) "
                "and no such file",
            )
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError) as exc:
            raise ConfigError(str(path), f"cannot read the mapping file: {exc}") from None
        where = str(path)
    try:
        data = load_yaml(text)
        if not isinstance(data, dict):
            raise ConfigError(where, "a mapping file must hold a YAML mapping (name:, fields:, ...)")
        return DeclarationMapping.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(where, f"not valid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        why = first["msg"].removeprefix("Value error, ")
        if isinstance(first.get("input"), bool):  # true_values: [yes] is read as [true]
            why += " (YAML reads yes/no/on/off/true/false unquoted as a boolean: write it in quotes, e.g. \"yes\")"
        raise ConfigError(f"{where}: {loc}", why) from exc
