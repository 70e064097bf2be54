using System.Globalization;
using EventStore.Providers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// Appends multi-event batches in a loop until it is killed. The store is chosen by configuration from environment
// variables (EventStore__Provider, EventStore__Postgres__ConnectionString, ...), the same way an application picks it,
// so one child serves every provider.
//
// Usage: Child <journal-file> <category> <stream-count> <seed>
// Journal lines (flushed one by one, so a SIGKILL loses at most the line being written):
//   I <stream> <id,id,...>               before the append is sent (intent)
//   A <stream> <lastVersion> <id,id,...> after the store acknowledged it
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: Child <journal-file> <category> <stream-count> <seed>");
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
