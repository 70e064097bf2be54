using System.Reflection;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB.Tests;

internal static class TestEvents
{
    public static EventData New(string type = "Happened", int dataBytes = 16, string? text = null)
    {
        var data = text is null ? new byte[dataBytes] : Encoding.UTF8.GetBytes(text);
        if (text is null) Random.Shared.NextBytes(data);
        return new EventData(Guid.NewGuid(), type, data, Encoding.UTF8.GetBytes("{\"m\":1}"));
    }

    public static EventData[] Many(int count, string type = "Happened", int dataBytes = 16) =>
        Enumerable.Range(0, count).Select(_ => New(type, dataBytes)).ToArray();

    public static StreamName Stream(string category = "Order") => StreamName.For(category, Guid.NewGuid().ToString("N"));

    public static async Task<List<T>> ToListAsync<T>(this IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source) list.Add(item);
        return list;
    }
}

/// <summary>
/// A DispatchProxy over the SDK client that passes every call on to it (unwrapping the reflection exception), for test
/// proxies that intercept some calls.
/// </summary>
public abstract class ForwardingProxy : DispatchProxy
{
    /// <summary>The client calls go on to.</summary>
    protected IAmazonDynamoDB Target { get; private set; } = null!;

    /// <summary>Wraps <paramref name="target"/> in a new <typeparamref name="TProxy"/>; <paramref name="control"/> is the proxy's own side.</summary>
    protected static IAmazonDynamoDB Wrap<TProxy>(IAmazonDynamoDB target, out TProxy control) where TProxy : ForwardingProxy
    {
        var proxy = Create<IAmazonDynamoDB, TProxy>();
        control = (TProxy)(object)proxy;
        control.Target = target;
        return proxy;
    }

    /// <summary>Calls <paramref name="method"/> on <see cref="Target"/>, throwing what it throws.</summary>
    protected object? Forward(MethodInfo method, object?[]? args)
    {
        try
        {
            return method.Invoke(Target, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}

/// <summary>
/// Wraps the SDK client and, when armed, lets a commit PutItem reach DynamoDB but throws as if its response were lost
/// on the way back: the append's outcome is unknown to the writer.
/// </summary>
public class LosingResponsesProxy : ForwardingProxy
{
    private int _toLose;

    public static IAmazonDynamoDB Wrap(IAmazonDynamoDB target, out LosingResponsesProxy control) => Wrap<LosingResponsesProxy>(target, out control);

    public void LoseNextCommitResponses(int count) => Interlocked.Exchange(ref _toLose, count);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var result = Forward(targetMethod!, args);
        if (targetMethod!.Name == nameof(IAmazonDynamoDB.PutItemAsync) && args?[0] is PutItemRequest request
            && request.Item["pk"].S.StartsWith("s#", StringComparison.Ordinal) && Interlocked.Decrement(ref _toLose) >= 0)
            return LoseAsync((Task<PutItemResponse>)result!);
        return result;
    }

    private static async Task<PutItemResponse> LoseAsync(Task<PutItemResponse> call)
    {
        await call;
        throw new HttpRequestException("Simulated: the connection was reset before the response arrived.");
    }
}

/// <summary>
/// Reproduces what dynalite leaves behind when it is killed in the middle of a commit PutItem: it writes the item's
/// global secondary index entries before the item itself (db/index.js updateIndexes, then itemDb.put), so a crash in
/// between leaves index entries whose table item does not exist. When armed, the next commit put is not stored; its
/// index entries are, from then on, added to every index query it matches, and the writer sees a reset connection.
/// </summary>
public class CrashBetweenIndexAndItemProxy : ForwardingProxy
{
    private static readonly Dictionary<string, string> IndexPartitionKeys = new() { ["all"] = "ab", ["category"] = "cp", ["type"] = "tp" };
    private int _toCrash;
    private readonly List<Dictionary<string, AttributeValue>> _orphans = [];

    public static IAmazonDynamoDB Wrap(IAmazonDynamoDB target, out CrashBetweenIndexAndItemProxy control) => Wrap<CrashBetweenIndexAndItemProxy>(target, out control);

    public void CrashDuringNextCommit() => Interlocked.Exchange(ref _toCrash, 1);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IAmazonDynamoDB.PutItemAsync) && args?[0] is PutItemRequest put
            && put.Item["pk"].S.StartsWith("s#", StringComparison.Ordinal) && Interlocked.Exchange(ref _toCrash, 0) == 1)
        {
            lock (_orphans) _orphans.Add(put.Item);
            return Task.FromException<PutItemResponse>(new HttpRequestException("Simulated: the server died before it answered."));
        }
        var result = Forward(targetMethod, args);
        if (targetMethod.Name == nameof(IAmazonDynamoDB.QueryAsync) && args?[0] is QueryRequest { IndexName: { } index } query)
            return WithOrphansAsync((Task<QueryResponse>)result!, index, query);
        return result;
    }

    private async Task<QueryResponse> WithOrphansAsync(Task<QueryResponse> call, string index, QueryRequest query)
    {
        var response = await call;
        var partitionKey = IndexPartitionKeys[index];
        var values = query.ExpressionAttributeValues;
        var partition = values.Values.First(v => v.S is not null).S;
        var condition = query.KeyConditionExpression;
        bool InRange(long ap) =>
            condition.Contains("ap > :bound", StringComparison.Ordinal) ? ap > long.Parse(values[":bound"].N)
            : condition.Contains("ap <= :bound", StringComparison.Ordinal) ? ap <= long.Parse(values[":bound"].N)
            : ap >= long.Parse(values[":lower"].N) && ap <= long.Parse(values[":upper"].N);
        List<Dictionary<string, AttributeValue>> matching;
        lock (_orphans)
            matching = _orphans.Where(o => o.TryGetValue(partitionKey, out var p) && p.S == partition && InRange(long.Parse(o["ap"].N))).ToList();
        if (matching.Count == 0) return response;
        // Only the first page of a query carries them: enough for the small tables of these tests.
        if (query.ExclusiveStartKey is { Count: > 0 }) return response;
        var items = response.Items.Concat(matching.Select(o => new Dictionary<string, AttributeValue>(o)));
        response.Items = (query.ScanIndexForward == false ? items.OrderByDescending(i => long.Parse(i["ap"].N)) : items.OrderBy(i => long.Parse(i["ap"].N))).ToList();
        return response;
    }
}
