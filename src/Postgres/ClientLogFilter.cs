using Microsoft.Extensions.Logging;

namespace EventStore.Providers.Postgres;

/// <summary>
/// The logger factory Npgsql gets: the application's, with Npgsql's own lines below
/// <see cref="PostgresEventStoreOptions.ClientLogLevel"/> dropped. Npgsql logs every command at Information, which a
/// default web app would print (hundreds of lines of migration SQL before it starts listening).
/// </summary>
internal sealed class ClientLogFilter(ILoggerFactory inner, LogLevel minimum) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Filtered(inner.CreateLogger(categoryName), minimum);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The application owns the factory; disposing the data source must not dispose it.
    public void Dispose() { }

    private sealed class Filtered(ILogger logger, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None && logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) logger.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
