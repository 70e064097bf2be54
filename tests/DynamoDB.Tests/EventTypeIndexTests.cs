using System.Collections.Concurrent;
using System.Reflection;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Xunit;

namespace EventStore.Providers.DynamoDB.Tests;

/// <summary>
/// <see cref="DynamoDBEventStoreOptions.IndexEventTypes"/>: without a type index a type-filtered read queries the
/// <c>$all</c> index with a filter on the type; with one it queries that index. The table decides which.
/// </summary>
public sealed class EventTypeIndexTests(DynamoDBServer server)
{
    private readonly DynamoDBFixture _fixture = new(server);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Type_filtered_reads_return_exactly_the_matching_events_from_the_index_the_table_has(bool indexEventTypes)
    {
        var options = _fixture.NewOptions();
        options.IndexEventTypes = indexEventTypes;
        using var raw = DynamoDBClientFactory.Create(options);
        var client = QueryRecordingProxy.Wrap(raw, out var queries);
        await using var sut = await _fixture.CreateStoreAsync(options, client, null, TestContext.Current.CancellationToken);
        var order = TestEvents.Stream("Order");
        var user = TestEvents.Stream("User");
        var placed = new List<Guid>();
        var shipped = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var mixed = new[] { TestEvents.New("Placed"), TestEvents.New("Shipped") };
            await sut.Store.AppendAsync(order, ExpectedVersion.Any, mixed);
            var single = TestEvents.New("Placed");
            await sut.Store.AppendAsync(user, ExpectedVersion.Any, [single]);
            await sut.Store.AppendAsync(user, ExpectedVersion.Any, [TestEvents.New("Other")]);
            placed.AddRange([mixed[0].EventId, single.EventId]);
            shipped.Add(mixed[1].EventId);
        }

        queries.Clear();
        var forPlaced = await sut.Store.ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("Placed") }).ToListAsync();
        Assert.Equal(placed, forPlaced.Select(e => e.EventId));
        var typeQueries = queries.Where(q => q.FilterExpression is not null || q.IndexName == "type").ToList();
        Assert.NotEmpty(typeQueries);
        if (indexEventTypes)
            Assert.All(typeQueries, q => Assert.Equal("type", q.IndexName));
        else
            Assert.All(typeQueries, q => Assert.Equal(("all", true), (q.IndexName, q.FilterExpression?.StartsWith("tp IN", StringComparison.Ordinal) == true)));

        var backwards = await sut.Store.ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("Shipped"), Direction = ReadDirection.Backwards }).ToListAsync();
        Assert.Equal(shipped.AsEnumerable().Reverse(), backwards.Select(e => e.EventId));

        // More types than DynamoDB's IN takes (100 operands): the read matches them itself.
        var many = Enumerable.Range(0, 150).Select(i => "Absent" + i).Append("Shipped").ToArray();
        Assert.Equal(shipped, (await sut.Store.ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes(many) }).ToListAsync()).Select(e => e.EventId));
    }

    [Fact]
    public async Task A_new_table_has_no_type_index_unless_asked_for()
    {
        foreach (var indexEventTypes in new[] { false, true })
        {
            var options = _fixture.NewOptions();
            options.IndexEventTypes = indexEventTypes;
            await using var sut = await _fixture.CreateStoreAsync(options, null, null, TestContext.Current.CancellationToken);
            using var client = DynamoDBClientFactory.Create(options);
            var table = (await client.DescribeTableAsync(options.TableName, TestContext.Current.CancellationToken)).Table;
            var expected = indexEventTypes ? new[] { "all", "category", "type" } : ["all", "category"];
            Assert.Equal(expected, table.GlobalSecondaryIndexes.Select(i => i.IndexName).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Asking_for_the_type_index_on_a_table_without_one_fails_the_start_naming_the_key_and_writes_nothing()
    {
        var options = _fixture.NewOptions();
        await using var sut = await _fixture.CreateStoreAsync(options, null, null, TestContext.Current.CancellationToken);
        var stream = TestEvents.Stream();
        await sut.Store.AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Many(2));

        var asking = _fixture.NewOptions();
        asking.TableName = options.TableName;
        asking.IndexEventTypes = true;
        using var other = new DynamoDBEventStore(asking);
        var error = await Assert.ThrowsAsync<EventStoreConfigurationException>(() => other.AppendAsync(stream, ExpectedVersion.Any, TestEvents.Many(1)));
        Assert.Equal("EventStore:DynamoDB:IndexEventTypes", error.Key);
        Assert.Contains("has no 'type' index", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await sut.Store.ReadStreamAsync(stream).ToListAsync()).Count);
    }

    [Fact]
    public async Task A_store_without_the_option_uses_the_type_index_its_table_has_and_its_commits_are_in_it()
    {
        var options = _fixture.NewOptions();
        options.IndexEventTypes = true;
        await using var sut = await _fixture.CreateStoreAsync(options, null, null, TestContext.Current.CancellationToken);

        var plain = _fixture.NewOptions();
        plain.TableName = options.TableName;
        using var raw = DynamoDBClientFactory.Create(plain);
        var client = QueryRecordingProxy.Wrap(raw, out var queries);
        using var store = new DynamoDBEventStore(client, plain);
        var placed = TestEvents.New("Placed");
        await store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, [TestEvents.New("Other"), placed, TestEvents.New("Other")]);
        await store.AppendAsync(TestEvents.Stream(), ExpectedVersion.NoStream, [TestEvents.New("Other")]);

        queries.Clear();
        var read = await store.ReadAllAsync(new ReadAllOptions { Filter = EventFilter.ForEventTypes("Placed") }).ToListAsync();
        Assert.Equal([placed.EventId], read.Select(e => e.EventId));
        Assert.Contains(queries, q => q.IndexName == "type");
        Assert.DoesNotContain(queries, q => q.FilterExpression is not null);
    }
}

/// <summary>Passes every call to the SDK client and keeps each <see cref="QueryRequest"/> sent.</summary>
public class QueryRecordingProxy : ForwardingProxy
{
    private readonly ConcurrentQueue<QueryRequest> _queries = new();

    public static IAmazonDynamoDB Wrap(IAmazonDynamoDB target, out ConcurrentQueue<QueryRequest> queries)
    {
        var proxy = Wrap<QueryRecordingProxy>(target, out var control);
        queries = control._queries;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (args is [QueryRequest query, ..]) _queries.Enqueue(query);
        return Forward(targetMethod!, args);
    }
}
