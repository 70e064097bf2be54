using System.Runtime.CompilerServices;

namespace EventStore.Providers.DynamoDB;

/// <summary>Merges index partitions that are each sorted by position into one sequence in position order.</summary>
internal static class AsyncMerge
{
    public static async IAsyncEnumerable<T> ByKey<T>(
        IReadOnlyList<IAsyncEnumerable<T>> sources,
        Func<T, long> key,
        bool descending,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (sources.Count == 1)
        {
            await foreach (var item in sources[0].WithCancellation(cancellationToken).ConfigureAwait(false))
                yield return item;
            yield break;
        }

        var enumerators = sources.Select(s => s.GetAsyncEnumerator(cancellationToken)).ToArray();
        try
        {
            // The first pages of every partition are fetched together: one round trip of latency, not N.
            var moved = await Task.WhenAll(enumerators.Select(e => e.MoveNextAsync().AsTask())).ConfigureAwait(false);
            while (true)
            {
                var best = -1;
                for (var i = 0; i < enumerators.Length; i++)
                {
                    if (!moved[i]) continue;
                    if (best < 0) { best = i; continue; }
                    var k = key(enumerators[i].Current);
                    var b = key(enumerators[best].Current);
                    if (descending ? k > b : k < b) best = i;
                }
                if (best < 0) yield break;
                yield return enumerators[best].Current;
                moved[best] = await enumerators[best].MoveNextAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var e in enumerators) await e.DisposeAsync().ConfigureAwait(false);
        }
    }
}
