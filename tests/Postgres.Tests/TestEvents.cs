using System.Text;

namespace EventStore.Providers.Postgres.Tests;

internal static class TestEvents
{
    public static EventData New(string type = "Happened", string? body = null) =>
        new(Guid.NewGuid(), type, Encoding.UTF8.GetBytes(body ?? "{\"n\":1}"), Encoding.UTF8.GetBytes("{\"m\":true}"));

    public static EventData[] Many(int count, string type = "Happened") =>
        Enumerable.Range(0, count).Select(i => New(type, $"{{\"i\":{i}}}")).ToArray();

    public static async Task<List<T>> ToListAsync<T>(this IAsyncEnumerable<T> source, CancellationToken cancellationToken = default)
    {
        var list = new List<T>();
        await foreach (var item in source.WithCancellation(cancellationToken)) list.Add(item);
        return list;
    }
}
