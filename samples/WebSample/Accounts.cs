using EventStore.Providers.Aggregates;
using EventStore.Providers.Serialization;

namespace WebSample;

/// <summary>An account was opened.</summary>
[EventType("AccountOpened")]
public sealed record AccountOpened(string AccountId, string Owner);

/// <summary>Money was paid in.</summary>
[EventType("MoneyDeposited")]
public sealed record MoneyDeposited(string AccountId, decimal Amount);

/// <summary>Money was taken out.</summary>
[EventType("MoneyWithdrawn")]
public sealed record MoneyWithdrawn(string AccountId, decimal Amount);

/// <summary>What the account knows, folded from its events.</summary>
public sealed record AccountState : AggregateState<AccountState>
{
    /// <summary>Registers how each event changes the state.</summary>
    public AccountState()
    {
        On<AccountOpened>((s, e) => s with { Owner = e.Owner });
        On<MoneyDeposited>((s, e) => s with { Balance = s.Balance + e.Amount });
        On<MoneyWithdrawn>((s, e) => s with { Balance = s.Balance - e.Amount });
    }

    /// <summary>Who owns it.</summary>
    public string? Owner { get; init; }

    /// <summary>The money in it.</summary>
    public decimal Balance { get; init; }
}

/// <summary>A rule of the account was broken; nothing was written.</summary>
public sealed class AccountRuleException(string message) : Exception(message);

/// <summary>An account: opened once, never below zero.</summary>
public sealed class Account : Aggregate<AccountState>
{
    /// <summary>Opens the account.</summary>
    public void Open(string accountId, string owner)
    {
        if (CurrentVersion >= 0) throw new AccountRuleException($"Account {accountId} is already open.");
        if (string.IsNullOrWhiteSpace(owner)) throw new AccountRuleException("An account needs an owner.");
        Apply(new AccountOpened(accountId, owner));
    }

    /// <summary>Pays money in.</summary>
    public void Deposit(string accountId, decimal amount)
    {
        EnsureOpen(accountId);
        if (amount <= 0) throw new AccountRuleException($"A deposit must be positive; {amount} is not.");
        Apply(new MoneyDeposited(accountId, amount));
    }

    /// <summary>Takes money out, never more than the balance.</summary>
    public void Withdraw(string accountId, decimal amount)
    {
        EnsureOpen(accountId);
        if (amount <= 0) throw new AccountRuleException($"A withdrawal must be positive; {amount} is not.");
        if (amount > State.Balance) throw new AccountRuleException($"Account {accountId} holds {State.Balance}; it cannot pay out {amount}.");
        Apply(new MoneyWithdrawn(accountId, amount));
    }

    private void EnsureOpen(string accountId)
    {
        if (CurrentVersion < 0) throw new AccountRuleException($"Account {accountId} is not open.");
    }
}
