using System.Text.Json;
using EventStore.Providers;
using EventStore.Providers.Aggregates;
using EventStore.Providers.Projections;

namespace WebSample;

/// <summary>One event to append: its type and JSON payload; the id is generated when absent.</summary>
/// <param name="Type">The event type name.</param>
/// <param name="Data">The JSON payload.</param>
/// <param name="Id">The event id; send the same id again to retry safely.</param>
public sealed record NewEvent(string Type, JsonElement Data, Guid? Id = null);

/// <summary>An append request.</summary>
/// <param name="Events">The events, appended atomically.</param>
/// <param name="ExpectedVersion">
/// <c>any</c> (default), <c>no-stream</c>, <c>exists</c>, or the version of the last event the caller saw.
/// </param>
public sealed record AppendRequest(IReadOnlyList<NewEvent> Events, string? ExpectedVersion = null);

/// <summary>Opening an account.</summary>
/// <param name="Owner">Who owns it.</param>
public sealed record OpenAccount(string Owner);

/// <summary>Moving money.</summary>
/// <param name="Amount">How much.</param>
public sealed record MoveMoney(decimal Amount);

/// <summary>An account as the aggregate sees it.</summary>
/// <param name="AccountId">The account.</param>
/// <param name="Owner">Its owner.</param>
/// <param name="Balance">Its balance.</param>
/// <param name="Version">The version of its stream.</param>
public sealed record AccountView(string AccountId, string? Owner, decimal Balance, long Version);

/// <summary>The balances read model and how far it has read.</summary>
/// <param name="Position">The last position the projection handled, or null before the first.</param>
/// <param name="Status">The projection's status.</param>
/// <param name="Accounts">Every account it has seen.</param>
public sealed record BalancesView(Position? Position, SubscriptionStatus Status, IReadOnlyList<AccountBalance> Accounts);

/// <summary>The sample's request handlers.</summary>
public static class Endpoints
{
    /// <summary>Appends the request's events atomically and returns the store's <see cref="AppendResult"/> (JSON-ready).</summary>
    public static async Task<IResult> AppendAsync(string stream, AppendRequest request, IEventStore store, CancellationToken ct)
    {
        var events = request.Events.Select(e => new EventData(e.Id ?? Guid.NewGuid(), e.Type, JsonSerializer.SerializeToUtf8Bytes(e.Data))).ToList();
        var result = await store.AppendAsync(new StreamName(stream), ParseExpectedVersion(request.ExpectedVersion), events, ct);
        return Results.Ok(result);
    }

    /// <summary>Reads one stream forwards from <paramref name="from"/> (a version, default 0).</summary>
    /// <remarks><see cref="RecordedEvent"/> serializes as is: a JSON payload is embedded, other bytes go as base64.</remarks>
    public static async Task<IResult> ReadStreamAsync(string stream, IEventStore store, long? from, int? max, CancellationToken ct) =>
        Results.Ok(await store.ReadStreamAsync(new StreamName(stream), ReadDirection.Forwards, from, max ?? 100, ct).ToListAsync(ct));

    /// <summary>Reads a category (every <c>{category}-*</c> stream) after the position <paramref name="after"/>.</summary>
    public static async Task<IResult> ReadCategoryAsync(string category, IEventStore store, string? after, int? max, CancellationToken ct)
    {
        var options = new ReadAllOptions { From = ParsePosition(after), MaxCount = max ?? 100 };
        return Results.Ok(await store.ReadCategoryAsync(category, options, ct).ToListAsync(ct));
    }

    /// <summary>Reads the global log after the position <paramref name="after"/> (a checkpoint the caller kept).</summary>
    public static async Task<IResult> ReadAllAsync(IEventStore store, string? after, int? max, CancellationToken ct)
    {
        var options = new ReadAllOptions { From = ParsePosition(after), MaxCount = max ?? 100 };
        return Results.Ok(await store.ReadAllAsync(options, ct).ToListAsync(ct));
    }

    /// <summary>Opens an account: load, decide, save with the loaded version as the expected version.</summary>
    public static Task<IResult> OpenAccountAsync(string id, OpenAccount command, AggregateStore aggregates, CancellationToken ct) =>
        ChangeAsync(id, aggregates, account => account.Open(id, command.Owner), ct);

    /// <summary>Pays money in.</summary>
    public static Task<IResult> DepositAsync(string id, MoveMoney command, AggregateStore aggregates, CancellationToken ct) =>
        ChangeAsync(id, aggregates, account => account.Deposit(id, command.Amount), ct);

    /// <summary>Takes money out.</summary>
    public static Task<IResult> WithdrawAsync(string id, MoveMoney command, AggregateStore aggregates, CancellationToken ct) =>
        ChangeAsync(id, aggregates, account => account.Withdraw(id, command.Amount), ct);

    /// <summary>Loads the account from its events (and snapshot, when one is configured).</summary>
    public static async Task<IResult> GetAccountAsync(string id, AggregateStore aggregates, CancellationToken ct)
    {
        var account = await aggregates.LoadAsync<Account>(AggregateStore.StreamFor<Account>(id), ct);
        return account.CurrentVersion < 0
            ? Results.NotFound()
            : Results.Ok(new AccountView(id, account.State.Owner, account.State.Balance, account.CurrentVersion));
    }

    /// <summary>
    /// The balances read model. With <paramref name="after"/> (a position from an append result), it first waits, up
    /// to 10 s, until the projection has handled that position.
    /// </summary>
    public static async Task<IResult> GetBalancesAsync([FromKeyedServices("AccountBalances")] SubscriptionRunner runner, AccountBalances balances, string? after, CancellationToken ct)
    {
        if (ParsePosition(after) is { } position)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                await runner.WaitForPositionAsync(position, timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return Results.Problem($"The projection has not reached {position} within 10 s.", statusCode: StatusCodes.Status504GatewayTimeout);
            }
        }
        return Results.Ok(new BalancesView(runner.ProcessedPosition, runner.Status, balances.All));
    }

    private static async Task<IResult> ChangeAsync(string id, AggregateStore aggregates, Action<Account> decide, CancellationToken ct)
    {
        var stream = AggregateStore.StreamFor<Account>(id);
        var account = await aggregates.LoadAsync<Account>(stream, ct);
        decide(account);
        return Results.Ok(await aggregates.SaveAsync(stream, account, cancellationToken: ct));
    }

    private static Position? ParsePosition(string? text) => string.IsNullOrEmpty(text) ? null : Position.Parse(text);

    private static ExpectedVersion ParseExpectedVersion(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "any" => ExpectedVersion.Any,
        "no-stream" => ExpectedVersion.NoStream,
        "exists" => ExpectedVersion.StreamExists,
        var v when long.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) => ExpectedVersion.Exact(n),
        _ => throw new BadHttpRequestException($"expectedVersion '{text}' is not any, no-stream, exists or a version number."),
    };
}
