using System.Diagnostics;

namespace EventStore.Providers.Postgres.Tests;

/// <summary>
/// The first live event after a store's first subscription must arrive as fast as later ones: the subscription is
/// listening before it reports CaughtUp. PollInterval is 30 s here, so a subscription that falls back to polling for
/// its first wait takes 30 s and fails; the bound below is a correctness line, not a speed target.
/// </summary>
public sealed class LiveSubscriptionTests(PostgresFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan WellUnderPollInterval = TimeSpan.FromSeconds(10);
    private readonly string _schema = PostgresFixture.NewSchema();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await fixture.DropSchemaAsync(_schema);

    private PostgresEventStore NewStore()
    {
        var options = PostgresFixture.Options(_schema);
        options.PollInterval = PollInterval;
        return new PostgresEventStore(fixture.DataSource, options);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_first_event_after_CaughtUp_arrives_well_under_the_poll_interval(bool appendFromAnotherProcess)
    {
        await using var subscriber = NewStore();
        await using var appender = appendFromAnotherProcess ? NewStore() : null;
        var writer = appender ?? subscriber;
        await subscriber.InitializeAsync(Ct);
        await writer.AppendAsync(new StreamName("Order-0"), ExpectedVersion.NoStream, [TestEvents.New()], Ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(PollInterval * 2);
        await using var subscription = subscriber.SubscribeToAllAsync(cancellationToken: timeout.Token).GetAsyncEnumerator(timeout.Token);
        while (await subscription.MoveNextAsync() && subscription.Current.Kind != SubscriptionMessageKind.CaughtUp) { }
        Assert.Equal(SubscriptionMessageKind.CaughtUp, subscription.Current.Kind);

        var live = TestEvents.New();
        var sw = Stopwatch.StartNew();
        await writer.AppendAsync(new StreamName("Order-1"), ExpectedVersion.NoStream, [live], Ct);
        while (await subscription.MoveNextAsync() && subscription.Current.Event?.EventId != live.EventId) { }
        sw.Stop();
        Assert.Equal(live.EventId, subscription.Current.Event?.EventId);
        Assert.True(sw.Elapsed < WellUnderPollInterval,
            $"The first live event took {sw.Elapsed.TotalMilliseconds:N0} ms with PollInterval {PollInterval.TotalSeconds} s: the subscription was not listening when it reported CaughtUp.");
    }
}
