"""`Order`'s field order is a contract: the venue codecs build it positionally (hot path, no kwargs)."""

from cexarb.model import Order

# Reordering, inserting or renaming a field must fail here first, not as a silently shifted
# price/quantity in a decoded order. Append new fields at the end (with a default) and update this.
EXPECTED_FIELDS = (
    "symbol",
    "order_id",
    "client_order_id",
    "side",
    "order_type",
    "price",
    "quantity",
    "status",
    "time_in_force",
    "filled_quantity",
    "remaining_quantity",
    "average_price",
    "fee",
    "fee_asset",
    "created_at",
    "updated_at",
    "sequence",
    "reduce_only",
    "quote_quantity",
)


def test_order_fields_keep_their_positional_order() -> None:
    assert Order.__struct_fields__ == EXPECTED_FIELDS
