using EventStore.Providers;
using EventStore.Providers.Projections;

namespace WebSample;

/// <summary>One row of the balances read model.</summary>
/// <param name="AccountId">The account.</param>
/// <param name="Owner">Its owner.</param>
/// <param name="Balance">Its balance.</param>
/// <param name="Position">The position of the last event folded into the row.</param>
public sealed record AccountBalance(string AccountId, string Owner, decimal Balance, Position Position);

/// <summary>
/// The read model: every account's balance, kept in process memory. Because it lives in memory, it is registered with
/// <see cref="SubscriptionOptions.StoreCheckpoints"/> off, so each start rebuilds it from the beginning of the log; with
/// a durable checkpoint a restart would resume after the checkpoint with an empty dictionary and miss every account
/// opened before.
/// </summary>
public sealed class AccountBalances : Projection
{
    private readonly Dictionary<string, AccountBalance> _rows = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Registers a handler per event type.</summary>
    public AccountBalances()
    {
        On<AccountOpened>((e, envelope) => Update(e.AccountId, envelope.Position, _ => new AccountBalance(e.AccountId, e.Owner, 0m, envelope.Position)));
        On<MoneyDeposited>((e, envelope) => Update(e.AccountId, envelope.Position, row => row! with { Balance = row.Balance + e.Amount }));
        On<MoneyWithdrawn>((e, envelope) => Update(e.AccountId, envelope.Position, row => row! with { Balance = row.Balance - e.Amount }));
    }

    /// <summary>Every account, by id.</summary>
    public IReadOnlyList<AccountBalance> All
    {
        get { lock (_gate) return [.. _rows.Values.OrderBy(r => r.AccountId, StringComparer.Ordinal)]; }
    }

    /// <summary>One account, or null when the read model has not seen it (yet).</summary>
    public AccountBalance? Find(string accountId)
    {
        lock (_gate) return _rows.GetValueOrDefault(accountId);
    }

    /// <inheritdoc />
    public override Task ResetAsync(CancellationToken cancellationToken)
    {
        lock (_gate) _rows.Clear();
        return Task.CompletedTask;
    }

    private void Update(string accountId, Position position, Func<AccountBalance?, AccountBalance> change)
    {
        lock (_gate)
        {
            var row = change(_rows.GetValueOrDefault(accountId));
            _rows[accountId] = row with { Position = position };
        }
    }
}
