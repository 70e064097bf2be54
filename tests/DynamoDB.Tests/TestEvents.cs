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
/// Wraps the SDK client and, when armed, lets a commit PutItem reach DynamoDB but throws as if its response were lost
/// on the way back: the append's outcome is unknown to the writer.
/// </summary>
public class LosingResponsesProxy : DispatchProxy
{
    private IAmazonDynamoDB _target = null!;
    private int _toLose;

    public static IAmazonDynamoDB Wrap(IAmazonDynamoDB target, out LosingResponsesProxy control)
    {
        var proxy = Create<IAmazonDynamoDB, LosingResponsesProxy>();
        control = (LosingResponsesProxy)(object)proxy;
        control._target = target;
        return proxy;
    }

    public void LoseNextCommitResponses(int count) => Interlocked.Exchange(ref _toLose, count);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        object? result;
        try
        {
            result = targetMethod!.Invoke(_target, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
        if (targetMethod.Name == nameof(IAmazonDynamoDB.PutItemAsync) && args?[0] is PutItemRequest request
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
