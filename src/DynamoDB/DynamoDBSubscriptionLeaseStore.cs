using System.Security.Cryptography;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB;

/// <summary>
/// Subscription-group leases as items of the checkpoint table (the events table unless
/// <see cref="DynamoDBEventStoreOptions.CheckpointTableName"/> is set): one partition per group, one item per record.
/// Every write is conditional on what was read or on the fencing token, so of two racing instances exactly one
/// succeeds, and a write with a stale token changes nothing.
/// </summary>
/// <remarks>
/// The table's sort key is a number, so a record's item is keyed by a 63-bit hash of its name and carries the name in
/// an attribute (a hash collision is detected and refused). Fencing tokens come from a counter item in the group's
/// partition, so a token is never handed out twice, even to a record deleted and created again. Lease items carry none
/// of the global indexes' key attributes, so no event read can see them. The layout is in README.md.
/// </remarks>
public sealed class DynamoDBSubscriptionLeaseStore : ISubscriptionLeaseStore
{
    private readonly IAmazonDynamoDB _client;
    private readonly string _table;

    /// <summary>Creates the store over <paramref name="client"/> and the checkpoint table named by the options.</summary>
    public DynamoDBSubscriptionLeaseStore(IAmazonDynamoDB client, DynamoDBEventStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _table = options.EffectiveCheckpointTable;
    }

    /// <inheritdoc />
    public async Task<SubscriptionLease?> TryAcquireAsync(string name, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        var group = LeaseGuard.ValidateName(name);
        LeaseGuard.ValidateOwner(owner);
        LeaseGuard.ValidateDuration(duration);
        var key = LeaseItem.Key(group, name);
        var read = await DynamoDBErrors.Run(() => _client.GetItemAsync(new GetItemRequest { TableName = _table, Key = key, ConsistentRead = true }, cancellationToken),
            "GetItem (lease)", cancellationToken).ConfigureAwait(false);
        var current = read.Item is { Count: > 0 } item ? LeaseItem.Read(item, name) : null;
        var expires = now + duration;
        if (current is null)
        {
            var token = await NextTokenAsync(group, cancellationToken).ConfigureAwait(false);
            var created = new SubscriptionLease(name, owner, token, expires, null);
            var put = new PutItemRequest
            {
                TableName = _table,
                Item = LeaseItem.Write(group, created),
                ConditionExpression = "attribute_not_exists(#pk)",
                ExpressionAttributeNames = new() { ["#pk"] = Schema.Pk },
            };
            return await ConditionallyAsync(() => _client.PutItemAsync(put, cancellationToken), "PutItem (lease acquire)", cancellationToken).ConfigureAwait(false) ? created : null;
        }
        if (current.ExpiresAt <= now)
        {
            // Pinned to the token and expiry read: a renewal or another taker in between makes this write fail.
            var token = await NextTokenAsync(group, cancellationToken).ConfigureAwait(false);
            var taken = current with { Owner = owner, Token = token, ExpiresAt = expires };
            var update = Update(key, current, "SET #o = :o, #t = :t, #e = :e", "#t = :ct AND #e = :ce", new()
            {
                [":o"] = Schema.S(owner),
                [":t"] = Schema.N(token),
                [":e"] = LeaseItem.Time(expires),
                [":ce"] = LeaseItem.Time(current.ExpiresAt),
            });
            return await ConditionallyAsync(() => _client.UpdateItemAsync(update, cancellationToken), "UpdateItem (lease takeover)", cancellationToken).ConfigureAwait(false) ? taken : null;
        }
        if (!string.Equals(current.Owner, owner, StringComparison.Ordinal)) return null;
        var extended = current with { ExpiresAt = expires };
        var extend = Update(key, current, "SET #e = :e", "#t = :ct AND #o = :o", new()
        {
            [":e"] = LeaseItem.Time(expires),
            [":o"] = Schema.S(owner),
        });
        return await ConditionallyAsync(() => _client.UpdateItemAsync(extend, cancellationToken), "UpdateItem (lease extend)", cancellationToken).ConfigureAwait(false) ? extended : null;
    }

    /// <inheritdoc />
    public async Task<SubscriptionLease?> RenewAsync(SubscriptionLease lease, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        var group = LeaseGuard.ValidateLease(lease);
        LeaseGuard.ValidateDuration(duration);
        var update = Update(LeaseItem.Key(group, lease.Name), lease, "SET #e = :e", "#t = :ct", new() { [":e"] = LeaseItem.Time(now + duration) });
        update.ReturnValues = ReturnValue.ALL_NEW;
        try
        {
            var response = await DynamoDBErrors.Run(() => _client.UpdateItemAsync(update, cancellationToken), "UpdateItem (lease renew)", cancellationToken).ConfigureAwait(false);
            return LeaseItem.Read(response.Attributes, lease.Name);
        }
        catch (ConditionalCheckFailedException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(SubscriptionLease lease, CancellationToken cancellationToken = default)
    {
        var group = LeaseGuard.ValidateLease(lease);
        var update = Update(LeaseItem.Key(group, lease.Name), lease, "SET #e = :e", "#t = :ct", new() { [":e"] = LeaseItem.Time(DateTimeOffset.MinValue) });
        await ConditionallyAsync(() => _client.UpdateItemAsync(update, cancellationToken), "UpdateItem (lease release)", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task SaveCheckpointAsync(SubscriptionLease lease, Position checkpoint, CancellationToken cancellationToken = default)
    {
        var group = LeaseGuard.ValidateLease(lease);
        var update = Update(LeaseItem.Key(group, lease.Name), lease, "SET #c = :c", "#t = :ct", new() { [":c"] = Schema.S(checkpoint.ToString()) });
        if (!await ConditionallyAsync(() => _client.UpdateItemAsync(update, cancellationToken), "UpdateItem (lease checkpoint)", cancellationToken).ConfigureAwait(false))
            throw new LeaseLostException(lease.Name, lease.Token);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SubscriptionLease>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var group = LeaseGuard.ValidatePrefix(prefix);
        var leases = new List<SubscriptionLease>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var query = new QueryRequest
            {
                TableName = _table,
                ConsistentRead = true,
                KeyConditionExpression = "#pk = :pk AND #sk > :counter",
                FilterExpression = "begins_with(#n, :prefix)",
                ExpressionAttributeNames = new() { ["#pk"] = Schema.Pk, ["#sk"] = Schema.Sk, ["#n"] = LeaseItem.Name },
                ExpressionAttributeValues = new()
                {
                    [":pk"] = Schema.S(LeaseItem.PartitionKey(group)),
                    [":counter"] = Schema.N(LeaseItem.CounterSk),
                    [":prefix"] = Schema.S(prefix),
                },
                ExclusiveStartKey = start,
            };
            var page = await DynamoDBErrors.Run(() => _client.QueryAsync(query, cancellationToken), "Query (lease list)", cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items ?? []) leases.Add(LeaseItem.Read(item, Schema.GetString(item, LeaseItem.Name)!));
            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);
        leases.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return leases;
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, long token, CancellationToken cancellationToken = default)
    {
        var group = LeaseGuard.ValidateName(name);
        var delete = new DeleteItemRequest
        {
            TableName = _table,
            Key = LeaseItem.Key(group, name),
            ConditionExpression = "#t = :ct AND #n = :n",
            ExpressionAttributeNames = new() { ["#t"] = LeaseItem.Token, ["#n"] = LeaseItem.Name },
            ExpressionAttributeValues = new() { [":ct"] = Schema.N(token), [":n"] = Schema.S(name) },
        };
        return await ConditionallyAsync(() => _client.DeleteItemAsync(delete, cancellationToken), "DeleteItem (lease)", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reserves the group's next fencing token (an atomic counter; a reserved token that goes unused is skipped).</summary>
    private async Task<long> NextTokenAsync(string group, CancellationToken cancellationToken)
    {
        var request = new UpdateItemRequest
        {
            TableName = _table,
            Key = Schema.Key(LeaseItem.PartitionKey(group), LeaseItem.CounterSk),
            UpdateExpression = "ADD #t :one",
            ExpressionAttributeNames = new() { ["#t"] = LeaseItem.Token },
            ExpressionAttributeValues = new() { [":one"] = Schema.N(1) },
            ReturnValues = ReturnValue.UPDATED_NEW,
        };
        var response = await DynamoDBErrors.Run(() => _client.UpdateItemAsync(request, cancellationToken), "UpdateItem (lease token)", cancellationToken).ConfigureAwait(false);
        return Schema.GetLong(response.Attributes, LeaseItem.Token);
    }

    /// <summary>An update of the lease's item while it carries the lease's token (<c>:ct</c>) and name, plus <paramref name="condition"/>.</summary>
    private UpdateItemRequest Update(Dictionary<string, AttributeValue> key, SubscriptionLease lease, string expression, string condition, Dictionary<string, AttributeValue> values)
    {
        values[":ct"] = Schema.N(lease.Token);
        values[":n"] = Schema.S(lease.Name);
        condition += " AND #n = :n";
        // DynamoDB refuses a request naming an attribute its expressions do not use.
        var names = LeaseItem.Names.Where(n => expression.Contains(n.Key, StringComparison.Ordinal) || condition.Contains(n.Key, StringComparison.Ordinal))
            .ToDictionary(n => n.Key, n => n.Value);
        return new UpdateItemRequest
        {
            TableName = _table,
            Key = key,
            UpdateExpression = expression,
            ConditionExpression = condition,
            ExpressionAttributeNames = names,
            ExpressionAttributeValues = values,
        };
    }

    /// <summary>Runs a conditional write; false when its condition did not hold.</summary>
    private static async Task<bool> ConditionallyAsync<T>(Func<Task<T>> write, string operation, CancellationToken cancellationToken)
    {
        try
        {
            await DynamoDBErrors.Run(write, operation, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }
}

/// <summary>The item layout of one lease record (README.md, "Subscription-group leases").</summary>
internal static class LeaseItem
{
    /// <summary>Partition key prefix: <c>l#{group}</c> holds the group's records and its token counter.</summary>
    public const string Prefix = "l#";

    /// <summary>The sort key of the group's token counter; records hash to 1 or more.</summary>
    public const long CounterSk = 0;

    public const string Name = "ln";
    public const string Owner = "lo";
    public const string Token = "lt";
    public const string Expires = "le";
    public const string Checkpoint = "lc";

    /// <summary>The expression placeholders of the attributes above.</summary>
    public static IReadOnlyDictionary<string, string> Names { get; } = new Dictionary<string, string>
    {
        ["#n"] = Name, ["#o"] = Owner, ["#t"] = Token, ["#e"] = Expires, ["#c"] = Checkpoint,
    };

    public static string PartitionKey(string group) => Prefix + group;

    public static Dictionary<string, AttributeValue> Key(string group, string name) => Schema.Key(PartitionKey(group), SortKey(name));

    /// <summary>A stable 63-bit hash of the name, never 0 (the counter's key).</summary>
    public static long SortKey(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        var value = BitConverter.ToInt64(hash) & long.MaxValue;
        return value == CounterSk ? 1 : value;
    }

    /// <summary>Expiry as UTC ticks: exact, and comparable as a number.</summary>
    public static AttributeValue Time(DateTimeOffset time) => Schema.N(time.UtcTicks);

    public static Dictionary<string, AttributeValue> Write(string group, SubscriptionLease lease)
    {
        var item = new Dictionary<string, AttributeValue>
        {
            [Schema.Pk] = Schema.S(PartitionKey(group)),
            [Schema.Sk] = Schema.N(SortKey(lease.Name)),
            [Name] = Schema.S(lease.Name),
            [Owner] = Schema.S(lease.Owner),
            [Token] = Schema.N(lease.Token),
            [Expires] = Time(lease.ExpiresAt),
        };
        if (lease.Checkpoint is { } checkpoint) item[Checkpoint] = Schema.S(checkpoint.ToString());
        return item;
    }

    /// <summary>Reads an item, refusing one that belongs to another name with the same hash.</summary>
    public static SubscriptionLease Read(Dictionary<string, AttributeValue> item, string name)
    {
        var stored = Schema.GetString(item, Name);
        if (!string.Equals(stored, name, StringComparison.Ordinal))
            throw new EventStoreException($"The lease record '{name}' shares its DynamoDB key with '{stored}' (a hash collision); rename the subscription.");
        return new SubscriptionLease(
            name,
            Schema.GetString(item, Owner)!,
            Schema.GetLong(item, Token),
            new DateTimeOffset(Schema.GetLong(item, Expires), TimeSpan.Zero),
            Schema.GetString(item, Checkpoint) is { } checkpoint ? Position.Parse(checkpoint) : null);
    }
}
