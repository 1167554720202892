"""The ledger: holdings of each asset and cash per account, settled and pending.

Cash is kept in integer HKD cents so that conservation can be checked exactly. A trade moves
nothing when it is agreed: it records the seller's units and the buyer's cash as pending out, and
the units and proceeds each side has coming in, so that nobody can sell or spend the same thing
twice while settlement is due. What an account may still sell or spend depends on how the trade
settles. At the trade (book entry, atomic): only what it holds settled and has not committed
(`free_units`, `free_cash`). Later (delivery versus payment at T+n): also what its own pending
purchases and sales will bring in (`sellable_units`, `spendable_cash`), as a broker lets a client
sell shares bought but not yet settled. Such a trade can then fail for a cause: when it is due,
the seller may not hold the units (its purchase has not settled) or the buyer the cash (its sale's
proceeds have not arrived): `shortfall`. Delivery versus payment moves units, cash and charges in
one step. Cash locked for a primary-market allocation (`lock_cash`) is never used to settle a
trade. The end-of-run check compares the totals with what was issued at the start
(`sim.invariants`), and fails loudly on any difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sim.market.payers import Payer


UNITS_SHORT = 1  # `Ledger.shortfall`: the seller does not hold the units it owes
CASH_SHORT = 2  # the buyer does not hold the cash it owes


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
        self.cash_pending_out: list[int] = []  # owed to pending purchases and locked allocations
        self.cash_pending_in: list[int] = []  # proceeds of pending sales
        self.cash_locked: list[int] = []  # the part of cash_pending_out locked for allocations (`lock_cash`)
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
        self.cash_pending_in.append(0)
        self.cash_locked.append(0)
        self.issued_cash += cash_cents
        return account

    def free_units(self, asset: int, account: int) -> int:
        """Units the account may still sell: settled units not committed to a pending sale."""
        return self.units[asset][account] - self.units_pending_out[asset][account]

    def free_cash(self, account: int) -> int:
        """Cash (cents) the account may still commit: settled cash not owed to pending purchases."""
        return self.cash[account] - self.cash_pending_out[account]

    def sellable_units(self, asset: int, account: int) -> int:
        """Units the account may still sell for settlement later: free units plus those bought and not yet delivered."""
        return self.units[asset][account] + self.units_pending_in[asset][account] - self.units_pending_out[asset][account]

    def spendable_cash(self, account: int) -> int:
        """Cash (cents) the account may still commit for settlement later: free cash plus pending sales' proceeds."""
        return self.cash[account] + self.cash_pending_in[account] - self.cash_pending_out[account]

    def shortfall(self, trade) -> int:
        """Why a committed trade cannot settle now: 0 if it can, else UNITS_SHORT when the seller holds
        fewer units than it owes, plus CASH_SHORT when the buyer's cash (less what is locked for
        allocations) is short of what it pays."""
        buyer = trade.buyer
        short = UNITS_SHORT if self.units[trade.asset][trade.seller] < trade.quantity else 0
        if self.cash[buyer] - self.cash_locked[buyer] < trade.buyer_pays_cents:
            short |= CASH_SHORT
        return short

    def substitute(self, trade, seller: int, buyer: int) -> None:
        """Move a committed trade's pending amounts to a new seller and buyer (a buy-in agent standing in
        for a side that failed): the caller then settles the trade with those parties."""
        asset, quantity = trade.asset, trade.quantity
        if seller != trade.seller:
            self.units_pending_out[asset][trade.seller] -= quantity
            self.units_pending_out[asset][seller] += quantity
            self.cash_pending_in[trade.seller] -= trade.seller_receives_cents
            self.cash_pending_in[seller] += trade.seller_receives_cents
        if buyer != trade.buyer:
            self.units_pending_in[asset][trade.buyer] -= quantity
            self.units_pending_in[asset][buyer] += quantity
            self.cash_pending_out[trade.buyer] -= trade.buyer_pays_cents
            self.cash_pending_out[buyer] += trade.buyer_pays_cents

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

    def commit(self, asset: int, seller: int, buyer: int, quantity: int, buyer_pays_cents: int,
               seller_receives_cents: int = 0) -> None:
        """Record an agreed trade as pending on both sides."""
        self.units_pending_out[asset][seller] += quantity
        self.units_pending_in[asset][buyer] += quantity
        self.cash_pending_out[buyer] += buyer_pays_cents
        self.cash_pending_in[seller] += seller_receives_cents

    def settle(self, trades: Iterable) -> None:
        """Delivery versus payment of committed trades (a day's settlement run, in one call).

        Each trade has the fields asset, seller, buyer, quantity, buyer_pays_cents,
        seller_receives_cents and credits, the (collector, cents) charges. What the buyer pays
        equals what the seller receives plus all charges; the caller builds them so, and the
        end-of-run check catches it if not. The caller settles only what `shortfall` clears (or
        what settles at the trade, from free units and cash).
        """
        all_units, units_out, units_in = self.units, self.units_pending_out, self.units_pending_in
        cash, cash_out, cash_in = self.cash, self.cash_pending_out, self.cash_pending_in
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
            receives = trade.seller_receives_cents
            cash_in[seller] -= receives
            cash[seller] += receives
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

    def transfer_units(self, asset: int, payer: int, payee: int, quantity: int) -> None:
        """Units delivered outside any trade, from the giver's free units (a basket delivered in kind
        into or out of a fund)."""
        if quantity > self.free_units(asset, payer):
            raise AccountingError(f"{self.accounts[payer].name} delivers {quantity} units it does not hold free")
        self.units[asset][payer] -= quantity
        self.units[asset][payee] += quantity

    def lock_cash(self, account: int, cents: int) -> None:
        """Commit cash to a future payment (a primary-market allocation awaiting settlement)."""
        self.cash_pending_out[account] += cents
        self.cash_locked[account] += cents

    def pay_locked(self, payer: int, payee: int, cents: int) -> None:
        """Pay cash that was locked with `lock_cash`."""
        self.cash_pending_out[payer] -= cents
        self.cash_locked[payer] -= cents
        self.pay(payer, payee, cents)

    def pay(self, payer: int, payee: int, cents: int) -> None:
        """An immediate cash transfer outside any trade (creation and redemption proceeds, fees)."""
        self.cash[payer] -= cents
        self.cash[payee] += cents
