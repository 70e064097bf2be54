using CsCheck;
using EventStore.Providers.Reliability.Tests.Infrastructure;
using EventStore.Providers.Reliability.Tests.Model;
using EventStore.Providers.Reliability.Tests.Targets;

namespace EventStore.Providers.Reliability.Tests.ModelBased;

/// <summary>
/// Random operation sequences (appends with every expected-version kind, wrong versions, idempotent and partial
/// re-sends, stream reads both ways, paged <c>$all</c> reads, stream info, subscriptions, restarts) run against a
/// provider and the reference model; every answer must match.
/// </summary>
public abstract class ModelBasedTests(IStoreTarget target)
{
    /// <summary>Sequences per run: at least 200 in CI; <c>RELIABILITY_SEQUENCES</c> raises it for a longer soak.</summary>
    private static long Sequences =>
        long.TryParse(Environment.GetEnvironmentVariable("RELIABILITY_SEQUENCES"), out var n) && n > 200 ? n : 200;

    [Fact]
    public async Task Random_operation_sequences_get_the_same_answers_from_the_provider_as_from_the_reference_model()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = await target.CreateStoreAsync(ct);
        long sequences = 0, operations = 0, category = 0;
        await OperationGenerators.Sequence.SampleAsync(async ops =>
        {
            var runner = new SequenceRunner(store.Store, store.OpenAnotherInstanceAsync, $"M{Interlocked.Increment(ref category)}");
            await runner.RunAsync(ops, ct);
            Interlocked.Increment(ref sequences);
            Interlocked.Add(ref operations, runner.OperationsRun);
        }, iter: Sequences, threads: 1, print: ops => string.Join(Environment.NewLine, ops.Select(o => o.ToString())));

        Assert.True(sequences >= Sequences, $"only {sequences} sequences ran");
        Report.Count(target.Name, "model-based sequences passed", sequences);
        Report.Count(target.Name, "model-based operations checked", operations);
    }
}
