"""A nightly order-processing job for a small web shop.

It reads a day of orders, validates SKUs, prices each order, fuzzy-matches misspelt product
names, settles orders from a queue and writes a CSV report. It is written the way such jobs often
are: correct, readable, and slower than it needs to be. Megawatt's example profiles are recorded
from it (`megawatt demo`, `megawatt profile run -- python -m megawatt.examples.shop`).
"""

from __future__ import annotations

import copy
import logging
import random
import re
import sys
from dataclasses import dataclass, field

log = logging.getLogger("shop")

CATALOGUE = [
    "espresso beans",
    "filter papers",
    "milk frother",
    "burr grinder",
    "pour over kettle",
    "travel mug",
    "descaler",
    "cold brew jar",
]
DISCONTINUED = [f"OLD-{n:04d}" for n in range(3000)]
TAX_RATE = 0.2


@dataclass
class Order:
    id: int
    sku: str
    product: str
    quantity: int
    unit_price: float
    tags: list[str] = field(default_factory=list)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, straight from the textbook recurrence."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    if a[0] == b[0]:
        return edit_distance(a[1:], b[1:])
    return 1 + min(
        edit_distance(a[1:], b),
        edit_distance(a, b[1:]),
        edit_distance(a[1:], b[1:]),
    )


def closest_product(name: str) -> str:
    return min(CATALOGUE, key=lambda candidate: edit_distance(name[:7], candidate[:7]))


def parse_sku(sku: str) -> tuple[str, int] | None:
    pattern = re.compile(r"^([A-Z]{3})-(\d{4})$")
    match = pattern.match(sku)
    if match is None:
        return None
    return match.group(1), int(match.group(2))


def valid_orders(orders: list[Order]) -> list[Order]:
    kept = []
    for order in orders:
        if parse_sku(order.sku) is None:
            continue
        if order.sku in DISCONTINUED:
            log.info(f"dropping discontinued order {order.id} ({order.sku})")
            continue
        kept.append(order)
    return kept


def price(order: Order) -> float:
    snapshot = copy.deepcopy(order)
    subtotal = snapshot.quantity * snapshot.unit_price
    return round(subtotal * (1 + TAX_RATE), 2)


def settle(orders: list[Order]) -> list[tuple[int, float]]:
    queue = list(orders)
    settled = []
    while queue:
        order = queue.pop(0)
        log.debug("settling order %s: %s", order.id, str(order))
        settled.append((order.id, price(order)))
    return settled


def cheapest(settled: list[tuple[int, float]]) -> float:
    return sorted(amount for _, amount in settled)[0]


def report(settled: list[tuple[int, float]]) -> str:
    text = "order,amount\n"
    for order_id, amount in settled:
        text += f"{order_id},{amount:.2f}\n"
    return text


def make_orders(count: int, seed: int = 7) -> list[Order]:
    rng = random.Random(seed)
    orders = []
    for i in range(count):
        if rng.random() < 0.1:
            sku = f"OLD-{rng.randrange(3000):04d}"
        else:
            sku = f"{rng.choice(['CAF', 'TEA', 'KIT'])}-{rng.randrange(10000):04d}"
        name = rng.choice(CATALOGUE)
        typo = name.replace("e", "a", 1) if rng.random() < 0.5 else name
        orders.append(Order(i, sku, typo, rng.randrange(1, 5), rng.uniform(3, 60), ["web"]))
    return orders


def run(count: int = 20000) -> dict[str, float]:
    orders = make_orders(count)
    kept = valid_orders(orders)
    for order in kept[:12]:
        order.product = closest_product(order.product)
    settled = settle(kept)
    text = report(settled)
    return {
        "orders": float(len(orders)),
        "kept": float(len(kept)),
        "total": round(sum(amount for _, amount in settled), 2),
        "cheapest": cheapest(settled),
        "report_bytes": float(len(text)),
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING)
    summary = run(int(args[0]) if args else 20000)
    print(", ".join(f"{k}={v:g}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
