namespace EventStore.Providers;

/// <summary>The event store's configuration is missing a key or has an invalid value; <see cref="Key"/> names it.</summary>
public sealed class EventStoreConfigurationException : EventStoreException
{
    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    /// <param name="key">The full configuration key, e.g. <c>EventStore:Postgres:ConnectionString</c>.</param>
    /// <param name="problem">What is wrong with it, phrased to follow the key ("is missing").</param>
    /// <param name="innerException">The cause, if any.</param>
    public EventStoreConfigurationException(string key, string problem, Exception? innerException = null)
        : base($"Invalid event store configuration: {key} {problem}", innerException)
    {
        Key = key;
        Problem = problem;
    }

    /// <summary>The configuration key at fault.</summary>
    public string Key { get; }

    /// <summary>What is wrong with <see cref="Key"/>, phrased to follow it.</summary>
    public string Problem { get; }
}
