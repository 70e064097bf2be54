using System.Globalization;
using EventStore.Providers;
using EventStore.Providers.Reliability.Child;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// Two modes, both killed by the tests rather than ended. The store is chosen by configuration from environment
// variables (EventStore__Provider, EventStore__Postgres__ConnectionString, ...), the same way an application picks it,
// so one child serves every provider.
//
// Append mode: Child <journal-file> <category> <stream-count> <seed>
// Appends multi-event batches in a loop. Journal lines (flushed one by one, so a SIGKILL loses at most the line being
// written):
//   I <stream> <id,id,...>               before the append is sent (intent)
//   A <stream> <lastVersion> <id,id,...> after the store acknowledged it
//
// Group mode: Child group <journal-file> <subscription-id> <instance-id> <category> <lease-ms> <renew-ms>
// Runs one hosted instance of a Partitioned subscription group over the category; see GroupMode for its journal.
if (args.Length == 7 && args[0] == "group")
    return await GroupMode.RunAsync(args[1], args[2], args[3], args[4],
        TimeSpan.FromMilliseconds(int.Parse(args[5], CultureInfo.InvariantCulture)), TimeSpan.FromMilliseconds(int.Parse(args[6], CultureInfo.InvariantCulture)));
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: Child <journal-file> <category> <stream-count> <seed> | Child group <journal-file> <subscription-id> <instance-id> <category> <lease-ms> <renew-ms>");
    return 2;
}

var journalPath = args[0];
var category = args[1];
var streamCount = int.Parse(args[2], CultureInfo.InvariantCulture);
var random = new Random(int.Parse(args[3], CultureInfo.InvariantCulture));

var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
var services = new ServiceCollection();
services.AddLogging();
services.AddEventStore(configuration.GetSection("EventStore"));
await using var provider = services.BuildServiceProvider();
foreach (var initializer in provider.GetServices<IEventStoreInitializer>())
    await initializer.InitializeAsync();
var store = provider.GetRequiredService<IEventStore>();

await using var journal = new StreamWriter(new FileStream(journalPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
var payload = new byte[64];
while (true)
{
    var stream = new StreamName($"{category}-{random.Next(streamCount)}");
    var events = new EventData[random.Next(1, 6)];
    for (var i = 0; i < events.Length; i++)
    {
        random.NextBytes(payload);
        events[i] = new EventData(Guid.NewGuid(), "CrashProbe", payload.ToArray());
    }
    var ids = string.Join(',', events.Select(e => e.EventId.ToString("N")));
    await journal.WriteLineAsync($"I {stream} {ids}");
    var result = await store.AppendAsync(stream, ExpectedVersion.Any, events);
    await journal.WriteLineAsync($"A {stream} {result.LastVersion.ToString(CultureInfo.InvariantCulture)} {ids}");
}
