using System.Text.Json.Serialization;
using EventStore.Providers;
using EventStore.Providers.Diagnostics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using WebSample;

// The provider comes from configuration only: appsettings.json says InMemory; EventStore__Provider=Postgres plus
// EventStore__Postgres__ConnectionString (or Provider=DynamoDB plus EventStore__DynamoDB__ServiceUrl, ...) switch it.
var builder = WebApplication.CreateBuilder(args);

builder.Services.AddEventStore(builder.Configuration.GetSection("EventStore"),
    o => o.AddEventTypes(typeof(AccountOpened).Assembly));

// The balances live in memory, so their checkpoints do too (StoreCheckpoints=false): every start rebuilds them from
// the beginning of the log instead of resuming after a durable checkpoint with an empty read model.
builder.Services.AddProjection<AccountBalances>("AccountBalances", o => o.StoreCheckpoints = false);

// Traces and metrics of every store call come from the ActivitySource and Meter named "EventStore.Providers".
// The console exporter is on only when Telemetry:Console is true (EventStore's own settings are unaffected).
var telemetry = builder.Services.AddOpenTelemetry()
    .WithTracing(t => t.AddSource(EventStoreInstrumentation.Name))
    .WithMetrics(m => m.AddMeter(EventStoreInstrumentation.Name));
if (builder.Configuration.GetValue<bool>("Telemetry:Console"))
    telemetry.WithTracing(t => t.AddConsoleExporter()).WithMetrics(m => m.AddConsoleExporter());

// Enums (the projection's status) as names. Position, AppendResult and RecordedEvent need nothing: they carry converters.
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<EventStoreProblemDetails>();

var app = builder.Build();
app.UseExceptionHandler();

// AddEventStore registered the "eventstore" health check; this serves it.
app.MapHealthChecks("/health");

app.MapGet("/", (IEventStore store) => Results.Ok(new { provider = store.Capabilities.ProviderName }));

// Raw events: append JSON payloads to any stream, read a stream, a category or the whole log.
app.MapPost("/streams/{stream}", Endpoints.AppendAsync);
app.MapGet("/streams/{stream}", Endpoints.ReadStreamAsync);
app.MapGet("/categories/{category}", Endpoints.ReadCategoryAsync);
app.MapGet("/all", Endpoints.ReadAllAsync);

// The Account aggregate through the AggregateStore that AddEventStore registered.
app.MapPost("/accounts/{id}", Endpoints.OpenAccountAsync);
app.MapPost("/accounts/{id}/deposits", Endpoints.DepositAsync);
app.MapPost("/accounts/{id}/withdrawals", Endpoints.WithdrawAsync);
app.MapGet("/accounts/{id}", Endpoints.GetAccountAsync);

// The projection's read model, optionally after it has caught up with a position (read-your-writes).
app.MapGet("/balances", Endpoints.GetBalancesAsync);

app.Run();

/// <summary>The sample's entry point, public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
