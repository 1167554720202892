"""The ledger: holdings of each asset and cash per account, settled and pending.

Cash is kept in integer HKD cents so that conservation can be checked exactly. A trade moves
nothing when it is agreed: it only commits the seller's units and the buyer's cash (pending
amounts), so that nobody can sell or spend the same thing twice while settlement is due. Delivery
versus payment then moves units, cash and charges in one step. The end-of-run check compares
the totals with what was issued at the start (`sim.invariants`), and fails loudly on any difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sim.market.payers import Payer


class AccountingError(RuntimeError):
    """An end-of-run invariant does not hold: the model, not the user, is wrong."""


@dataclass(frozen=True)
class Account:
    name: str
    group: str  # investor group, market maker, or collector of charges
    payer: Payer  # the class its charges and reliefs are declared for


class Ledger:
    """Settled and pending holdings per account; assets are small integer indices."""

    def __init__(self, n_assets: int) -> None:
        self.n_assets = n_assets
        self.accounts: list[Account] = []
        self.payers: list[Payer] = []  # each account's payer class (read per trade: a list, not the records)
        self.units: list[list[int]] = [[] for _ in range(n_assets)]
        self.units_pending_out: list[list[int]] = [[] for _ in range(n_assets)]
        self.units_pending_in: list[list[int]] = [[] for _ in range(n_assets)]
        self.cash: list[int] = []
        self.cash_pending_out: list[int] = []
        self.issued_units = [0] * n_assets
        self.created_units = [0] * n_assets
        self.redeemed_units = [0] * n_assets
        self.issued_cash = 0

    def open_account(self, name: str, group: str, payer: Payer, cash_cents: int = 0, units: tuple[int, ...] = ()) -> int:
        """Open an account with its payer class, starting cash and units (one entry per asset); return its id."""
        account = len(self.accounts)
        self.accounts.append(Account(name, group, payer))
        self.payers.append(payer)
        holdings = list(units) + [0] * (self.n_assets - len(units))
        for asset, quantity in enumerate(holdings):
            self.units[asset].append(quantity)
            self.units_pending_out[asset].append(0)
            self.units_pending_in[asset].append(0)
            self.issued_units[asset] += quantity
        self.cash.append(cash_cents)
        self.cash_pending_out.append(0)
        self.issued_cash += cash_cents
        return account

    def free_units(self, asset: int, account: int) -> int:
        """Units the account may still sell: settled units not committed to a pending sale."""
        return self.units[asset][account] - self.units_pending_out[asset][account]

    def free_cash(self, account: int) -> int:
        """Cash (cents) the account may still commit: settled cash not owed to pending purchases."""
        return self.cash[account] - self.cash_pending_out[account]

    def standing(self, asset: int, account: int) -> tuple[int, int, int]:
        """What a market maker or dealer prices from, in one call: (position, the units the account
        will hold once everything pending has settled; its `free_units`; its `free_cash`)."""
        units, units_out = self.units[asset], self.units_pending_out[asset]
        free_units = units[account] - units_out[account]
        return (
            free_units + self.units_pending_in[asset][account],
            free_units,
            self.cash[account] - self.cash_pending_out[account],
        )

    def commit(self, asset: int, seller: int, buyer: int, quantity: int, buyer_pays_cents: int) -> None:
        """Record an agreed trade as pending on both sides."""
        self.units_pending_out[asset][seller] += quantity
        self.units_pending_in[asset][buyer] += quantity
        self.cash_pending_out[buyer] += buyer_pays_cents

    def settle(self, trades: Iterable) -> None:
        """Delivery versus payment of committed trades (a day's settlement run, in one call).

        Each trade has the fields asset, seller, buyer, quantity, buyer_pays_cents,
        seller_receives_cents and credits, the (collector, cents) charges. What the buyer pays
        equals what the seller receives plus all charges; the caller builds them so, and the
        end-of-run check catches it if not.
        """
        all_units, units_out, units_in = self.units, self.units_pending_out, self.units_pending_in
        cash, cash_out = self.cash, self.cash_pending_out
        for trade in trades:
            asset, seller, buyer, quantity = trade.asset, trade.seller, trade.buyer, trade.quantity
            units = all_units[asset]
            units_out[asset][seller] -= quantity
            units_in[asset][buyer] -= quantity
            units[seller] -= quantity
            units[buyer] += quantity
            pays = trade.buyer_pays_cents
            cash_out[buyer] -= pays
            cash[buyer] -= pays
            cash[seller] += trade.seller_receives_cents
            for collector, cents in trade.credits:
                cash[collector] += cents

    def create_units(self, asset: int, account: int, quantity: int) -> None:
        """New units issued to an account (ETF creation), counted so conservation still holds."""
        self.units[asset][account] += quantity
        self.created_units[asset] += quantity

    def redeem_units(self, asset: int, account: int, quantity: int) -> None:
        """Units cancelled from an account's free units (ETF redemption)."""
        if quantity > self.free_units(asset, account):
            raise AccountingError(f"{self.accounts[account].name} redeems {quantity} units it does not hold free")
        self.units[asset][account] -= quantity
        self.redeemed_units[asset] += quantity

    def lock_cash(self, account: int, cents: int) -> None:
        """Commit cash to a future payment (a primary-market allocation awaiting settlement)."""
        self.cash_pending_out[account] += cents

    def pay_locked(self, payer: int, payee: int, cents: int) -> None:
        """Pay cash that was locked with `lock_cash`."""
        self.cash_pending_out[payer] -= cents
        self.pay(payer, payee, cents)

    def pay(self, payer: int, payee: int, cents: int) -> None:
        """An immediate cash transfer outside any trade (creation and redemption proceeds, fees)."""
        self.cash[payer] -= cents
        self.cash[payee] += cents
