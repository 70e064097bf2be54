namespace EventStore.Providers.EventStoreDB.Protocol;

/// <summary>
/// A request's expected-revision choice. The generated Append, BatchAppend, Delete and Tombstone options each spell
/// it with their own field names and empty types; they implement this so <see cref="EsdbProtocol.SetExpected"/> is
/// the one place our <see cref="ExpectedVersion"/> turns into the server's.
/// </summary>
internal interface IExpectedRevision
{
    void ExpectAny();
    void ExpectNoStream();
    void ExpectStreamExists();
    void ExpectRevision(ulong revision);
}
