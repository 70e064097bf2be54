using Amazon.DynamoDBv2.Model;

namespace EventStore.Providers.DynamoDB;

public sealed partial class DynamoDBEventStore
{
    private const int MaxAppendAttempts = 64;

    /// <summary>The encoded batch: inline in the commit item, or in chunk items written before the commit.</summary>
    private sealed record Payload(byte[]? Inline, List<byte[]>? Chunks, string TypeKey)
    {
        public string? CommitId { get; set; }
    }

    /// <inheritdoc />
    public async Task<AppendResult> AppendAsync(StreamName stream, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        EventGuard.ValidateAppend(stream, expectedVersion, events, Capabilities);
        foreach (var e in events)
            if (EventCodec.EncodedSize(e) > Schema.ChunkBytes)
                throw new EventTooLargeException(stream, e.EventId, e.Size, Schema.MaxEventSize);
        cancellationToken.ThrowIfCancellationRequested();

        var pk = Schema.StreamPk(stream);
        if (events.Count == 0) return await AppendNothingAsync(stream, pk, expectedVersion, cancellationToken).ConfigureAwait(false);

        var payload = Encode(events);
        StreamHead? head = null;
        // A head this instance wrote is trusted when it matches the expectation: the conditional write on its next slot
        // fails if anyone appended or deleted since, and the append then reads the real head.
        if (_heads.TryGetValue(pk, out var known) && (expectedVersion.Kind != ExpectedVersionKind.Exact || known.LastVersion == expectedVersion.Version)
            && expectedVersion.Kind != ExpectedVersionKind.NoStream)
            head = known;
        else if (expectedVersion.Kind == ExpectedVersionKind.NoStream && !_heads.ContainsKey(pk))
            head = StreamHead.Missing; // optimistic: the slot-0 condition fails if the stream exists, then we read.
        var state = new AppendState { Head = head };
        try
        {
            var result = await AppendLoopAsync(stream, pk, expectedVersion, events, payload, state, cancellationToken).ConfigureAwait(false);
            if (!result.WroteEvents) await ReleaseAsync(state.Reservation).ConfigureAwait(false);
            return result;
        }
        catch when (state.Reservation is not null && !state.OutcomeUnknown)
        {
            // Positions reserved for a commit that was never sent: mark them skipped so readers need not wait.
            await ReleaseAsync(state.Reservation).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The mutable state of one append across its attempts.</summary>
    private sealed class AppendState
    {
        public StreamHead? Head { get; set; }
        public Reservation? Reservation { get; set; }
        public bool OutcomeUnknown { get; set; }

        /// <summary>An earlier attempt of this call may have stored the batch: finding it stored means this call wrote it.</summary>
        public bool Resent { get; set; }
    }

    private async Task<AppendResult> AppendLoopAsync(StreamName stream, string pk, ExpectedVersion expectedVersion, IReadOnlyList<EventData> events, Payload payload,
        AppendState state, CancellationToken cancellationToken)
    {
        var fresh = false;
        for (var attempt = 0; ; attempt++)
        {
            if (state.Head is null)
            {
                state.Head = await ReadHeadAsync(pk, withEvents: true, cancellationToken).ConfigureAwait(false);
                fresh = true;
            }
            var head = state.Head;

            if (head.Tombstoned) throw new StreamDeletedException(stream);

            if (!head.Satisfies(expectedVersion))
            {
                if (!fresh) { state.Head = null; continue; }
                var same = await FindStoredBatchAsync(stream, expectedVersion, events, head, cancellationToken).ConfigureAwait(false);
                return Landed(same, state) ?? throw new WrongExpectedVersionException(stream, expectedVersion, head.EffectiveVersion);
            }

            var overlap = OverlapsHead(head, events);
            if ((expectedVersion.Kind == ExpectedVersionKind.Any && fresh && head.EffectiveVersion >= 0) || overlap is not null)
            {
                // Judged like an Any re-send: the batch must be the stream's most recent events.
                var same = await FindStoredBatchAsync(stream, ExpectedVersion.Any, events, head, cancellationToken).ConfigureAwait(false);
                if (same is not null) return Landed(same, state)!;
                if (overlap is { } id) throw new EventIdConflictException(stream, id);
            }

            if (state.Reservation is { } r && _time.GetElapsedTime(r.TakenAt) > MaxReservationAge)
            {
                await ReleaseAsync(state.Reservation).ConfigureAwait(false);
                state.Reservation = null;
            }
            cancellationToken.ThrowIfCancellationRequested();
            state.Reservation ??= await ReserveAsync(events.Count, cancellationToken).ConfigureAwait(false);
            if (payload.Chunks is not null && payload.CommitId is null)
                payload.CommitId = await WriteChunksAsync(payload.Chunks, cancellationToken).ConfigureAwait(false);

            var reservation = state.Reservation.Value;
            if (_fence is not null && !await _fence.TryClaimAsync(reservation, pk, head, cancellationToken).ConfigureAwait(false))
            {
                // A reader already skipped these positions (they waited past the gap timeout): never commit them.
                state.Reservation = null;
                continue;
            }
            var commit = BuildCommit(stream, pk, head, reservation, events.Count, payload);
            // The SDK retries a failed or timed-out put with back-off. No attempt may be sent once half the gap timeout has
            // passed since the positions were reserved, so a reader cannot declare them abandoned while an attempt that
            // carries them is still on its way (see README.md, "Global positions").
            using var budget = new CancellationTokenSource(CommitBudget(reservation), _time);
            try
            {
                // Apart from that budget a sent commit is not cancelled halfway: the append either happened or did not.
                state.OutcomeUnknown = true;
                await PutCommitAsync(commit, head, reservation.First, budget.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (budget.IsCancellationRequested && attempt < MaxAppendAttempts)
            {
                // An attempt may have landed: the positions are neither released nor reused. The same slot is tried again
                // with new positions, so a stale attempt that lands later fails its condition; if one already landed the
                // fresh head shows the batch and the idempotence rule returns it.
                _logger.LogCommitBudgetExceeded(stream.Value, MaxReservationAge * 2, reservation.First, reservation.Last);
                state.Reservation = null;
                state.OutcomeUnknown = false;
                _heads.TryRemove(pk, out _);
                state.Head = null;
                state.Resent = true;
                continue;
            }
            catch (ConditionalCheckFailedException)
            {
                // Rejected, so certainly not written: the positions can be released.
                state.OutcomeUnknown = false;
                await ReleaseAsync(state.Reservation).ConfigureAwait(false);
                state.Reservation = null;
                _heads.TryRemove(pk, out _);
                state.Head = null;
                if (attempt >= MaxAppendAttempts)
                    throw new TransientEventStoreException($"Append to stream '{stream}' lost {attempt} races in a row; retry with the same event ids.");
                continue;
            }

            state.OutcomeUnknown = false;
            var lastVersion = head.NextSlot + events.Count - 1;
            RememberHead(pk, new StreamHead(lastVersion, lastVersion + 1, head.TruncateBefore, false, false, reservation.Last, commit));
            _appended.Signal();
            return new AppendResult(lastVersion, Position.FromInt64(reservation.Last));
        }
    }

    private static AppendResult? Landed(AppendResult? found, AppendState state) =>
        found is not null && state.Resent ? found with { WroteEvents = true } : found;

    /// <summary>
    /// Whether the batch shares an id with the stream's newest commit (known from the head read or this instance's own
    /// write): then it may be a re-send or a partial overlap, and the idempotence rule decides.
    /// </summary>
    private static Guid? OverlapsHead(StreamHead head, IReadOnlyList<EventData> events)
    {
        if (head.Item is not { } item || head.LastVersion < 0 || Schema.GetLong(item, Schema.Chunks) > 0 || !item.ContainsKey(Schema.Events)) return null;
        var stored = EventCodec.Decode(Schema.GetBytes(item, Schema.Events));
        foreach (var e in events)
            foreach (var s in stored)
                if (s.EventId == e.EventId) return e.EventId;
        return null;
    }

    /// <summary>
    /// How old a reservation may be when its commit is sent: the commit (with the SDK's retries) must land well before
    /// a reader may declare the positions abandoned (<see cref="DynamoDBEventStoreOptions.GapTimeout"/>).
    /// </summary>
    private TimeSpan MaxReservationAge => _options.GapTimeout / 4;

    /// <summary>What is left of the time in which a commit carrying <paramref name="reservation"/> may still be sent.</summary>
    private TimeSpan CommitBudget(Reservation reservation)
    {
        var left = MaxReservationAge * 2 - _time.GetElapsedTime(reservation.TakenAt);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private async Task<AppendResult> AppendNothingAsync(StreamName stream, string pk, ExpectedVersion expected, CancellationToken cancellationToken)
    {
        var head = await ReadHeadAsync(pk, withEvents: false, cancellationToken).ConfigureAwait(false);
        if (head.Tombstoned) throw new StreamDeletedException(stream);
        if (!head.Satisfies(expected)) throw new WrongExpectedVersionException(stream, expected, head.EffectiveVersion);
        var position = head.LastPosition > 0 ? Position.FromInt64(head.LastPosition) : Position.Start;
        return new AppendResult(head.EffectiveVersion, position, WroteEvents: false);
    }

    private Task<Reservation> ReserveAsync(int count, CancellationToken cancellationToken) => _blocks.TakeAsync(count, cancellationToken);

    /// <summary>Reserves a block of <paramref name="count"/> positions for this instance: the only write of the counter item.</summary>
    private async Task<(long First, long Last)> ReserveBlockAsync(int count)
    {
        var request = new UpdateItemRequest
        {
            TableName = _table,
            Key = Schema.Key(Schema.SequenceKey, 0),
            UpdateExpression = "ADD #v :n",
            ExpressionAttributeNames = new() { ["#v"] = Schema.Value },
            ExpressionAttributeValues = new() { [":n"] = Schema.N(count) },
            ReturnValues = Amazon.DynamoDBv2.ReturnValue.UPDATED_NEW,
        };
        var response = await CallAsync(() => _client.UpdateItemAsync(request, CancellationToken.None), "UpdateItem (reserve positions)", CancellationToken.None).ConfigureAwait(false);
        var last = Schema.GetLong(response.Attributes, Schema.Value);
        _logger.LogBlockReserved(last - count + 1, last);
        return (last - count + 1, last);
    }

    /// <summary>Marks reserved positions that will never hold events, so readers do not wait for them.</summary>
    private Task ReleaseAsync(Reservation? reservation) =>
        reservation is { } r ? ReleaseAsync(r.First, r.Last, "the append did not use them") : Task.CompletedTask;

    private async Task ReleaseAsync(long first, long last, string reason)
    {
        try
        {
            await WriteSkipAsync(first, last, CancellationToken.None).ConfigureAwait(false);
            _logger.LogBlockReleased(first, last, reason);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Readers skip the hole after the gap timeout; the append's own outcome is what the caller needs.
            _logger.LogSkipMarkerFailed(e, first, last);
        }
    }

    private async Task WriteSkipAsync(long first, long last, CancellationToken cancellationToken)
    {
        var request = new PutItemRequest
        {
            TableName = _table,
            Item = Schema.SkipItem(first, last, _options.AllPartitions),
            ConditionExpression = "attribute_not_exists(pk)",
        };
        try
        {
            await CallAsync(() => _client.PutItemAsync(request, cancellationToken), "PutItem (skip marker)", cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // Another reader or the writer already marked this range, or (fenced) the append's own intent is there.
            if (_fence is not null) await _fence.WithdrawAsync(first, last, cancellationToken).ConfigureAwait(false);
        }
    }

    private static Payload Encode(IReadOnlyList<EventData> events)
    {
        var type = events[0].EventType;
        var single = true;
        for (var i = 1; i < events.Count && single; i++) single = string.Equals(events[i].EventType, type, StringComparison.Ordinal);
        var typeKey = single ? "t#" + type : Schema.MixedTypes;

        var total = 0L;
        foreach (var e in events) total += EventCodec.EncodedSize(e);
        if (total <= Schema.ChunkBytes) return new Payload(EventCodec.Encode(events, 0, events.Count), null, typeKey);

        // Too big for one item: the events go to chunk items first and the commit item (still the only thing that
        // makes them visible) points to them, so the append stays one atomic conditional write.
        var chunks = new List<byte[]>();
        var start = 0;
        var size = 0L;
        for (var i = 0; i < events.Count; i++)
        {
            var s = EventCodec.EncodedSize(events[i]);
            if (size + s > Schema.ChunkBytes && i > start)
            {
                chunks.Add(EventCodec.Encode(events, start, i - start));
                start = i;
                size = 0;
            }
            size += s;
        }
        chunks.Add(EventCodec.Encode(events, start, events.Count - start));
        return new Payload(null, chunks, typeKey);
    }

    private async Task<string> WriteChunksAsync(List<byte[]> chunks, CancellationToken cancellationToken)
    {
        var cid = Guid.NewGuid().ToString("N");
        var requests = chunks.Select((blob, i) => new WriteRequest(new PutRequest(new Dictionary<string, AttributeValue>
        {
            [Schema.Pk] = Schema.S(Schema.ChunkPrefix + cid),
            [Schema.Sk] = Schema.N(i),
            [Schema.Events] = new AttributeValue { B = new MemoryStream(blob) },
        }))).ToList();
        // BatchWriteItem takes 25 items and 16 MB per call: 25 chunks of 380 KB stay under it.
        foreach (var group in requests.Chunk(25))
        {
            var pending = new Dictionary<string, List<WriteRequest>> { [_table] = [.. group] };
            for (var round = 0; pending.Count > 0; round++)
            {
                var request = new BatchWriteItemRequest { RequestItems = pending };
                var response = await CallAsync(() => _client.BatchWriteItemAsync(request, cancellationToken), "BatchWriteItem (commit chunks)", cancellationToken).ConfigureAwait(false);
                pending = response.UnprocessedItems is { Count: > 0 } left ? left : [];
                if (pending.Count > 0)
                    await BackOffUnprocessedAsync(round, "DynamoDB kept throttling the write of a large append; retry with the same event ids.", cancellationToken).ConfigureAwait(false);
            }
        }
        return cid;
    }

    private Dictionary<string, AttributeValue> BuildCommit(StreamName stream, string pk, StreamHead head, Reservation reservation, int count, Payload payload)
    {
        var item = new Dictionary<string, AttributeValue>
        {
            [Schema.Pk] = Schema.S(pk),
            [Schema.Sk] = Schema.N(head.NextSlot),
            [Schema.Count] = Schema.N(count),
            [Schema.FirstPosition] = Schema.N(reservation.First),
            [Schema.LastPosition] = Schema.N(reservation.Last),
            [Schema.AllPartition] = Schema.S(Schema.AllPartitionKey(reservation.Last, _options.AllPartitions)),
            [Schema.CategoryKey] = Schema.S("c#" + stream.Category),
            [Schema.TypeKey] = Schema.S(payload.TypeKey),
            [Schema.Created] = Schema.N(_time.GetUtcNow().ToUnixTimeMilliseconds()),
        };
        if (head.TruncateBefore > 0) item[Schema.TruncateBefore] = Schema.N(head.TruncateBefore);
        if (payload.Inline is not null)
        {
            item[Schema.Events] = new AttributeValue { B = new MemoryStream(payload.Inline) };
        }
        else
        {
            item[Schema.Chunks] = Schema.N(payload.Chunks!.Count);
            item[Schema.CommitId] = Schema.S(payload.CommitId!);
        }
        return item;
    }

    /// <summary>
    /// Writes a commit (or, with no positions, a deletion marker) into <paramref name="head"/>'s next slot. Only one
    /// writer can create the slot. A soft-delete marker or a void there is replaced, unless a reader voided
    /// <paramref name="firstPosition"/> in it (see <see cref="CommitFence"/>).
    /// </summary>
    private async Task PutCommitAsync(Dictionary<string, AttributeValue> item, StreamHead head, long? firstPosition, CancellationToken cancellationToken)
    {
        var request = new PutItemRequest { TableName = _table, Item = item, ConditionExpression = "attribute_not_exists(pk)" };
        var marker = head.SlotHoldsSoftMarker ? Schema.KindSoftDelete : head.SlotHoldsVoid ? Schema.KindVoid : null;
        if (marker is not null)
        {
            request.ConditionExpression = firstPosition is null ? "#k = :marker" : "#k = :marker AND NOT contains(#vg, :g)";
            request.ExpressionAttributeNames = new() { ["#k"] = Schema.Kind };
            request.ExpressionAttributeValues = new() { [":marker"] = Schema.S(marker) };
            if (firstPosition is { } g)
            {
                request.ExpressionAttributeNames["#vg"] = Schema.VoidedPositions;
                request.ExpressionAttributeValues[":g"] = Schema.N(g);
            }
        }
        await CallAsync(() => _client.PutItemAsync(request, cancellationToken), "PutItem (commit)", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The idempotence rule: looks at the events stored where the batch would have gone. All ids there in order: the
    /// original result. Some: <see cref="EventIdConflictException"/>. None: null.
    /// </summary>
    private async Task<AppendResult?> FindStoredBatchAsync(StreamName stream, ExpectedVersion expected, IReadOnlyList<EventData> events, StreamHead head, CancellationToken cancellationToken)
    {
        if (head.LastVersion < 0) return null;
        // Nothing is stored after the head (and Exact(long.MaxValue) + 1 would overflow into a read from the start).
        if (expected.Kind == ExpectedVersionKind.Exact && expected.Version >= head.LastVersion) return null;
        var start = expected.Kind switch
        {
            ExpectedVersionKind.Exact => expected.Version + 1,
            ExpectedVersionKind.NoStream => head.TruncateBefore,
            _ => Math.Max(head.TruncateBefore, head.LastVersion - events.Count + 1),
        };
        if (start > head.LastVersion) return null;

        // Any appends read the head with its events: most retries are decided from that item alone.
        if (expected.Kind == ExpectedVersionKind.Any && head.Item is { } headItem && Schema.GetLong(headItem, Schema.Chunks) == 0)
        {
            var ids = new HashSet<Guid>(events.Select(e => e.EventId));
            var headEvents = EventCodec.Decode(Schema.GetBytes(headItem, Schema.Events));
            if (!headEvents.Any(e => ids.Contains(e.EventId))) return null;
        }

        var stored = new List<RecordedEvent>(events.Count);
        await foreach (var e in ReadStreamCoreAsync(stream, ReadDirection.Forwards, start, events.Count, knownHead: head, cancellationToken).ConfigureAwait(false))
            stored.Add(e);
        var inOrder = stored.Count == events.Count;
        for (var i = 0; inOrder && i < stored.Count; i++) inOrder = stored[i].EventId == events[i].EventId;
        if (inOrder) return new AppendResult(stored[^1].Version, stored[^1].Position, WroteEvents: false);
        var batchIds = new HashSet<Guid>(events.Select(e => e.EventId));
        foreach (var e in stored)
            if (batchIds.Contains(e.EventId)) throw new EventIdConflictException(stream, e.EventId);
        return null;
    }
}
