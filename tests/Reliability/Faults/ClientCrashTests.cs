using System.Diagnostics;
using System.Globalization;
using EventStore.Providers.Reliability.Tests.Infrastructure;
using EventStore.Providers.Reliability.Tests.Targets;

namespace EventStore.Providers.Reliability.Tests.Faults;

/// <summary>
/// A client process appending multi-event batches is killed with SIGKILL at random moments; after each kill the
/// store holds every acknowledged append exactly once and no append partly.
/// </summary>
public abstract class ClientCrashTests(IStoreTarget target)
{
    private const int Kills = 20;
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long after its first acknowledged append a child may run before the kill. A store whose log drops old records
    /// (<see cref="IStoreTarget.LogBytesLimit"/>) gets a shorter window. With 250 ms a CI run put 17,491 events in
    /// 5,852 appends into the one Kafka partition (about 190 bytes a record and 61 a produce request: some 3.7 MB), near
    /// the mock cluster's 5 MiB, and one run in five found the start of $all dropped. With 80 ms a run writes about a
    /// third of that, and 18 of 20 kills still found an append in flight.
    /// </summary>
    private int KillWindowMs => target.LogBytesLimit is null ? 250 : 80;

    [Fact]
    public async Task A_client_killed_at_random_moments_leaves_every_acknowledged_append_exactly_once_and_no_append_half_written()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.True(target.SurvivesProcessCrash, $"{target.Name} keeps no data outside the process; it cannot run this test");
        Assert.True(File.Exists(ChildProcess.Assembly), $"the crash child is not built at {ChildProcess.Assembly}");
        await using var handle = await target.CreateStoreAsync(ct);
        Assert.NotNull(handle.ProcessConfiguration);
        var journal = Path.Combine(Path.GetTempPath(), $"reliability-journal-{Guid.NewGuid():N}.txt");
        var random = new Random(20);
        AuditResult? audit = null;
        try
        {
            for (var kill = 1; kill <= Kills; kill++)
            {
                var acknowledgedBefore = ReadJournal(journal).Count(b => b.AcknowledgedLastVersion is not null);
                using var child = StartChild(handle.ProcessConfiguration!, journal, kill);
                var started = Stopwatch.StartNew();
                while (ReadJournal(journal).Count(b => b.AcknowledgedLastVersion is not null) <= acknowledgedBefore)
                {
                    if (child.HasExited)
                        Assert.Fail($"the child exited with {child.ExitCode} before its first append: {await child.StandardError.ReadToEndAsync(ct)}");
                    Assert.True(started.Elapsed < StartLimit, $"the child acknowledged nothing within {StartLimit.TotalSeconds} s");
                    await Task.Delay(10, ct);
                }
                await Task.Delay(random.Next(0, KillWindowMs), ct);
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync(ct);

                audit = await Audit.VerifyAsync(handle.Store, "Crash", ReadJournal(journal), ct);
            }
        }
        finally
        {
            File.Delete(journal);
        }
        Report.Count(target.Name, "client SIGKILLs survived", Kills);
        Report.Count(target.Name, "client-crash: acknowledged appends verified exactly once", audit!.AcknowledgedBatches);
        Report.Count(target.Name, "client-crash: in-flight appends committed whole", audit.UnacknowledgedCommitted);
        Report.Count(target.Name, "client-crash: in-flight appends absent whole", audit.UnacknowledgedAbsent);
        Report.Count(target.Name, "client-crash: events audited", audit.Events);
    }

    private static Process StartChild(IReadOnlyDictionary<string, string?> configuration, string journal, int seed) =>
        ChildProcess.Start(configuration, journal, "Crash", "8", seed.ToString(CultureInfo.InvariantCulture));

    // A SIGKILL can cut the last line short; a line without its newline was never fully written and is ignored.
    private static List<JournalBatch> ReadJournal(string path)
    {
        if (!File.Exists(path)) return [];
        string text;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var reader = new StreamReader(stream))
            text = reader.ReadToEnd();
        var complete = text[..(text.LastIndexOf('\n') + 1)];
        var batches = new Dictionary<string, JournalBatch>(StringComparer.Ordinal);
        foreach (var line in complete.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            var ids = parts[^1];
            var parsed = ids.Split(',').Select(Guid.Parse).ToList();
            batches[ids] = parts[0] == "A"
                ? new JournalBatch(parts[1], parsed, long.Parse(parts[2], CultureInfo.InvariantCulture))
                : batches.GetValueOrDefault(ids) ?? new JournalBatch(parts[1], parsed, null);
        }
        return [.. batches.Values];
    }
}
