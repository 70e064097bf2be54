using CsCheck;

namespace EventStore.Providers.Reliability.Tests.Model;

/// <summary>One step of a generated sequence. Streams are indexes into the sequence's own few streams.</summary>
public abstract record Op;

/// <summary>How an append reuses a batch already written.</summary>
public enum Resend
{
    /// <summary>Fresh event ids.</summary>
    None,
    /// <summary>The same ids with the same expected version as a batch written earlier (a retry).</summary>
    Whole,
    /// <summary>Some ids of an earlier batch plus a fresh one (must be refused as a partial overlap).</summary>
    Partial,
}

/// <summary>
/// An append. <paramref name="ExactOffset"/> shifts an exact expected version away from the stream's real last version
/// (0 = right, anything else = wrong).
/// </summary>
public sealed record AppendOp(int Stream, ExpectedVersionKind Kind, int ExactOffset, int NewEvents, Resend Resend, int Pick) : Op;

/// <summary>A stream read.</summary>
public sealed record ReadStreamOp(int Stream, ReadDirection Direction, int? From, int MaxCount) : Op;

/// <summary>The sequence's part of <c>$all</c>, read in pages.</summary>
public sealed record ReadAllOp(ReadDirection Direction, int PageSize) : Op;

/// <summary>Stream info.</summary>
public sealed record StreamInfoOp(int Stream) : Op;

/// <summary>Switches to another store instance over the same storage (an application restart).</summary>
public sealed record RestartOp : Op;

/// <summary>A catch-up subscription to the sequence's category, until it reports caught up.</summary>
public sealed record SubscribeAllOp : Op;

/// <summary>A catch-up subscription to one stream after a version, until it reports caught up.</summary>
public sealed record SubscribeStreamOp(int Stream, int? AfterVersion) : Op;

/// <summary>CsCheck generators of operation sequences. Short sequences over three streams keep collisions frequent.</summary>
public static class OperationGenerators
{
    private const int Streams = 3;

    private static readonly Gen<int> StreamIndex = Gen.Int[0, Streams - 1];

    private static Gen<int?> OptionalInt(int max) => Gen.Int[-1, max].Select(i => i < 0 ? (int?)null : i);

    private static readonly Gen<Op> Append =
        Gen.Select(StreamIndex, Gen.Int[0, 3], Gen.Int[-2, 1], Gen.Int[0, 3],
                Gen.Frequency((6, Gen.Const(Resend.None)), (3, Gen.Const(Resend.Whole)), (1, Gen.Const(Resend.Partial))),
                Gen.Int[0, 7])
            .Select(t => (Op)new AppendOp(t.Item1, (ExpectedVersionKind)t.Item2, t.Item3, t.Item4, t.Item5, t.Item6));

    private static readonly Gen<Op> ReadStream =
        Gen.Select(StreamIndex, Gen.Bool, OptionalInt(4), Gen.OneOf(Gen.Int[0, 5], Gen.Const(int.MaxValue)))
            .Select(t => (Op)new ReadStreamOp(t.Item1, t.Item2 ? ReadDirection.Backwards : ReadDirection.Forwards, t.Item3, t.Item4));

    private static readonly Gen<Op> ReadAll =
        Gen.Select(Gen.Bool, Gen.Int[1, 4])
            .Select(t => (Op)new ReadAllOp(t.Item1 ? ReadDirection.Backwards : ReadDirection.Forwards, t.Item2));

    private static readonly Gen<Op> Info = StreamIndex.Select(s => (Op)new StreamInfoOp(s));

    private static readonly Gen<Op> Restart = Gen.Const<Op>(new RestartOp());

    private static readonly Gen<Op> SubscribeAll = Gen.Const<Op>(new SubscribeAllOp());

    private static readonly Gen<Op> SubscribeStream =
        Gen.Select(StreamIndex, OptionalInt(3)).Select(t => (Op)new SubscribeStreamOp(t.Item1, t.Item2));

    /// <summary>One operation, appends most often.</summary>
    public static readonly Gen<Op> Operation = Gen.Frequency(
        (10, Append), (3, ReadStream), (3, ReadAll), (2, Info), (1, Restart), (1, SubscribeAll), (1, SubscribeStream));

    /// <summary>A sequence of 1 to 14 operations.</summary>
    public static readonly Gen<Op[]> Sequence = Operation.Array[1, 14];
}
