using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Conformance;

/// <summary>Collects one instance's log lines (time, instance name, message) for a test to print when it fails.</summary>
internal sealed class ListLogger<T>(string name, ConcurrentQueue<string> lines) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {name} {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}");
}
