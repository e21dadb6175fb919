"""The raw data contract: what a user loads into the warehouse's `raw` schema.

One folder of CSV or Parquet files (see docs/data-contract.md), one file or sub-folder per table. This module is
the single source of truth for table names, column names, their SQL types and keys: the simulator writes these
columns, the ingester validates against them, and the dbt sources describe the resulting tables.

Identifiers are positive integers (BIGINT): the flash-sale catalogue and customer base are keyed by numbers, and
integer keys keep the co-visit self-joins of the recommenders fast on the whole visit history.
Timestamps are UTC; an ISO 8601 value with an offset is converted to UTC on ingest.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # DuckDB type of the typed raw column
    required: bool = True  # a null / empty value is a reject
    description: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    # The key that identifies one fact. For entity tables (sales, users, sale_images) a later row with the same key
    # is a new version of the entity; for event tables the key is the whole event.
    key: tuple[str, ...]
    is_event: bool
    # (column, referenced table, referenced column): rows whose reference is unknown are rejected.
    references: tuple[tuple[str, str, str], ...] = ()
    description: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


SALES = Table(
    name="sales",
    description="One row per flash sale: what is sold, where, for how much, and when it is open.",
    columns=(
        Column("sale_id", "BIGINT", description="Sale identifier (positive integer)."),
        Column("title", "VARCHAR", required=False, description="Sale title as shown on the home page."),
        Column("description", "VARCHAR", required=False, description="Free-text description of the offer."),
        Column("destination_city", "VARCHAR", required=False, description="Destination city."),
        Column("destination_country", "VARCHAR", required=False, description="Destination country."),
        Column("latitude", "DOUBLE", required=False, description="Destination latitude, degrees in [-90, 90]."),
        Column("longitude", "DOUBLE", required=False, description="Destination longitude, degrees in [-180, 180]."),
        Column("price_eur", "DOUBLE", description="Price per person in EUR, strictly positive."),
        Column("opens_on", "DATE", description="First day the sale is open."),
        Column("closes_on", "DATE", description="Last day the sale is open (inclusive, not before opens_on)."),
    ),
    key=("sale_id",),
    is_event=False,
)

SALE_IMAGES = Table(
    name="sale_images",
    description="Photos of a sale; position 1 is the hero image.",
    columns=(
        Column("image_id", "BIGINT", description="Image identifier (positive integer)."),
        Column("sale_id", "BIGINT", description="The sale the image illustrates."),
        Column("uri", "VARCHAR", description="Path of the image file relative to the image root."),
        Column("position", "INTEGER", description="Display order, 1 = hero image."),
    ),
    key=("image_id",),
    is_event=False,
    references=(("sale_id", "sales", "sale_id"),),
)

USERS = Table(
    name="users",
    description="Customers.",
    columns=(
        Column("user_id", "BIGINT", description="Customer identifier (positive integer)."),
        Column("signed_up_on", "DATE", description="Day the customer signed up."),
        Column("home_country", "VARCHAR", required=False, description="Customer's home country (ISO 3166 alpha-2)."),
    ),
    key=("user_id",),
    is_event=False,
)

VISITS = Table(
    name="visits",
    description="A customer opened a sale's page.",
    columns=(
        Column("user_id", "BIGINT", description="Visiting customer."),
        Column("sale_id", "BIGINT", description="Visited sale."),
        Column("visited_at", "TIMESTAMP", description="When, UTC."),
    ),
    key=("user_id", "sale_id", "visited_at"),
    is_event=True,
    references=(("user_id", "users", "user_id"), ("sale_id", "sales", "sale_id")),
)

PURCHASES = Table(
    name="purchases",
    description="A customer bought a sale.",
    columns=(
        Column("order_id", "BIGINT", description="Order identifier (positive integer)."),
        Column("user_id", "BIGINT", description="Buying customer."),
        Column("sale_id", "BIGINT", description="Bought sale."),
        Column("purchased_at", "TIMESTAMP", description="When, UTC."),
        Column("amount_eur", "DOUBLE", description="Order amount in EUR, not negative."),
    ),
    key=("order_id",),
    is_event=True,
    references=(("user_id", "users", "user_id"), ("sale_id", "sales", "sale_id")),
)

# Load order matters: referenced tables first.
TABLES: tuple[Table, ...] = (SALES, USERS, SALE_IMAGES, VISITS, PURCHASES)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
