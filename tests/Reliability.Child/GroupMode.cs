using System.Collections.Concurrent;
using System.Globalization;
using EventStore.Providers.Projections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Reliability.Child;

/// <summary>
/// Runs one instance of a Partitioned subscription group the way an application does (DI registration, hosted service)
/// and journals what it did, one flushed line at a time, so the group audit can reconstruct every instance's work after
/// SIGKILL and SIGSTOP. Journal lines (UTC ticks last but for C, whose position may contain spaces):
///   T &lt;share&gt; &lt;token&gt; &lt;ticks&gt;                        the instance took the share with that fencing token
///   H &lt;share&gt; &lt;token&gt; &lt;stream&gt; &lt;version&gt; &lt;id&gt; &lt;ticks&gt;  the handler got the event (token: the share's at that time)
///   C &lt;share&gt; &lt;token&gt; &lt;ticks&gt; &lt;position&gt;             the runner stored the share's checkpoint
///   L &lt;share&gt; &lt;token&gt; &lt;ticks&gt;                        the runner found the share taken over and stopped handling it
///   N &lt;event-id&gt; &lt;ticks&gt; &lt;message&gt;                  any other group log line (1300-1399), for reading only
/// The T, C and L lines come from the runner's own log lines (event ids 1300, 1314, 1302), written after the lease store
/// answered; this process takes a share at most once per token, so the token of a C line is the latest T of its share.
/// </summary>
internal static class GroupMode
{
    public static async Task<int> RunAsync(string journalPath, string subscriptionId, string instanceId, string category, TimeSpan leaseTime, TimeSpan renewInterval)
    {
        await using var journal = new Journal(journalPath);
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new JournalingLoggerProvider(journal)));
        services.AddEventStore(configuration.GetSection("EventStore"));
        services.AddSingleton(new JournalingHandler(journal));
        services.AddEventStoreSubscription<JournalingHandler>(subscriptionId, EventFilter.ForCategories(category), o =>
        {
            o.BatchSize = 20;
            o.CheckpointAfterEvents = 50;
            o.CheckpointAfterTime = TimeSpan.FromMilliseconds(500);
            // The journal is written outside any transaction, so it can only account for batches whose handling is not
            // rolled back: a transactional batch (PostgreSQL's lease store) cancelled or fenced after the handler ran
            // would look handled here and be handled again. Promise 28's conformance class covers the transactional path.
            o.UseTransactionalCheckpoints = false;
            o.Group.Mode = SubscriptionGroupMode.Partitioned;
            o.Group.LeaseTime = leaseTime;
            o.Group.RenewInterval = renewInterval;
            o.Group.InstanceId = instanceId;
        });
        await using var provider = services.BuildServiceProvider();
        foreach (var initializer in provider.GetServices<IEventStoreInitializer>())
            await initializer.InitializeAsync();
        foreach (var hosted in provider.GetServices<IHostedService>())
            await hosted.StartAsync(CancellationToken.None);
        var runner = provider.GetRequiredKeyedService<SubscriptionRunner>(subscriptionId);
        // Runs until killed; a faulted runner ends the process so the test sees why.
        while (runner.Status != SubscriptionStatus.Faulted) await Task.Delay(200);
        await Console.Error.WriteLineAsync($"the group instance {instanceId} faulted: {runner.Error}");
        return 3;
    }

    private static string Ticks() => DateTime.UtcNow.Ticks.ToString(CultureInfo.InvariantCulture);

    /// <summary>One line at a time from the handler and the log, flushed at once.</summary>
    private sealed class Journal(string path) : IAsyncDisposable
    {
        private readonly StreamWriter _writer = new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        private readonly Lock _gate = new();

        /// <summary>The token of each share's latest take, for the H and C lines.</summary>
        public ConcurrentDictionary<int, long> Tokens { get; } = new();

        public void Write(string line)
        {
            lock (_gate) _writer.WriteLine(line);
        }

        public ValueTask DisposeAsync() => _writer.DisposeAsync();
    }

    private sealed class JournalingHandler(Journal journal) : ISubscriptionHandler
    {
        public Task HandleAsync(IReadOnlyList<RecordedEvent> events, SubscriptionContext context, CancellationToken cancellationToken)
        {
            var share = context.Share ?? throw new InvalidOperationException("a group instance got a batch without its share");
            var token = journal.Tokens.GetValueOrDefault(share, -1);
            foreach (var e in events)
                journal.Write(string.Create(CultureInfo.InvariantCulture, $"H {share} {token} {e.Stream} {e.Version} {e.EventId:N} {Ticks()}"));
            return Task.CompletedTask;
        }
    }

    /// <summary>Turns the runner's take, checkpoint and loss log lines into journal lines.</summary>
    private sealed class JournalingLoggerProvider(Journal journal) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(journal);

        public void Dispose()
        {
        }

        private sealed class Logger(Journal journal) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                // Only the group's lines (1300-1399) name a subscription.
                if (state is not IReadOnlyList<KeyValuePair<string, object?>> values || !values.Any(v => v.Key == "SubscriptionId")) return;
                if (eventId.Id is >= 1300 and < 1400 and not (1300 or 1302 or 1314))
                {
                    // The group's other lines, for whoever reads a journal a failed audit left.
                    journal.Write($"N {eventId.Id} {Ticks()} {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message.ReplaceLineEndings(" ")})")}");
                    return;
                }
                if (eventId.Id is not (1300 or 1302 or 1314)) return;
                object? Value(string name) => values.FirstOrDefault(v => v.Key == name).Value;
                var share = Convert.ToInt32(Value("Share"), CultureInfo.InvariantCulture);
                switch (eventId.Id)
                {
                    case 1300:
                        var taken = Convert.ToInt64(Value("Token"), CultureInfo.InvariantCulture);
                        journal.Tokens[share] = taken;
                        journal.Write(string.Create(CultureInfo.InvariantCulture, $"T {share} {taken} {Ticks()}"));
                        break;
                    case 1302:
                        journal.Write(string.Create(CultureInfo.InvariantCulture, $"L {share} {Convert.ToInt64(Value("Token"), CultureInfo.InvariantCulture)} {Ticks()}"));
                        break;
                    default:
                        journal.Write(string.Create(CultureInfo.InvariantCulture, $"C {share} {journal.Tokens.GetValueOrDefault(share, -1)} {Ticks()} {Value("Checkpoint")}"));
                        break;
                }
            }
        }
    }
}
