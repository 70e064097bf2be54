using WellKnownEmpty = Google.Protobuf.WellKnownTypes.Empty;

namespace EventStore.Providers.EventStoreDB.Protocol.Streams;

// The generated request options, each made an IExpectedRevision with its own field names.
internal sealed partial class AppendReq
{
    public static partial class Types
    {
        internal sealed partial class Options : IExpectedRevision
        {
            public void ExpectAny() => Any = new Empty();
            public void ExpectNoStream() => NoStream = new Empty();
            public void ExpectStreamExists() => StreamExists = new Empty();
            public void ExpectRevision(ulong revision) => Revision = revision;
        }
    }
}

internal sealed partial class BatchAppendReq
{
    public static partial class Types
    {
        internal sealed partial class Options : IExpectedRevision
        {
            public void ExpectAny() => Any = new WellKnownEmpty();
            public void ExpectNoStream() => NoStream = new WellKnownEmpty();
            public void ExpectStreamExists() => StreamExists = new WellKnownEmpty();
            public void ExpectRevision(ulong revision) => StreamPosition = revision;
        }
    }
}

internal sealed partial class DeleteReq
{
    public static partial class Types
    {
        internal sealed partial class Options : IExpectedRevision
        {
            public void ExpectAny() => Any = new Empty();
            public void ExpectNoStream() => NoStream = new Empty();
            public void ExpectStreamExists() => StreamExists = new Empty();
            public void ExpectRevision(ulong revision) => Revision = revision;
        }
    }
}

internal sealed partial class TombstoneReq
{
    public static partial class Types
    {
        internal sealed partial class Options : IExpectedRevision
        {
            public void ExpectAny() => Any = new Empty();
            public void ExpectNoStream() => NoStream = new Empty();
            public void ExpectStreamExists() => StreamExists = new Empty();
            public void ExpectRevision(ulong revision) => Revision = revision;
        }
    }
}
