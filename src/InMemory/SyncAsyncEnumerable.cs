namespace EventStore.Providers.InMemory;

/// <summary>
/// Exposes a lazy in-memory iteration as <see cref="IAsyncEnumerable{T}"/> without an async state machine per item,
/// checking cancellation before every item.
/// </summary>
internal sealed class SyncAsyncEnumerable<T>(Func<IEnumerable<T>> source, CancellationToken cancellationToken) : IAsyncEnumerable<T>
{
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken enumeratorCancellation = default) =>
        new Enumerator(source().GetEnumerator(), cancellationToken, enumeratorCancellation);

    private sealed class Enumerator(IEnumerator<T> inner, CancellationToken first, CancellationToken second) : IAsyncEnumerator<T>
    {
        public T Current => inner.Current;

        public ValueTask<bool> MoveNextAsync()
        {
            first.ThrowIfCancellationRequested();
            second.ThrowIfCancellationRequested();
            return new ValueTask<bool>(inner.MoveNext());
        }

        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
