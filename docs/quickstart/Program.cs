using EventStore.Providers;                 // IEventStore, StreamName, ExpectedVersion, Position, AppendResult
using EventStore.Providers.Aggregates;      // Aggregate<TState>, AggregateState<TState>, AggregateStore
using EventStore.Providers.Projections;     // Projection, SubscriptionRunner
using EventStore.Providers.Serialization;   // [EventType]

var builder = WebApplication.CreateBuilder(args);

// The provider comes from configuration (appsettings.json or EventStore__Provider=Postgres, ...): see below.
builder.Services.AddEventStore(builder.Configuration.GetSection("EventStore"),
    o => o.AddEventTypes(typeof(TodoAdded).Assembly));

// A projection kept in memory: StoreCheckpoints=false rebuilds it from the whole log at every start.
builder.Services.AddProjection<OpenTodos>("OpenTodos", o => o.StoreCheckpoints = false);

var app = builder.Build();
app.MapHealthChecks("/health");   // AddEventStore registered the "eventstore" health check

// Commands go through the AggregateStore that AddEventStore registered: load, decide, save.
app.MapPost("/todos/{id}", async (string id, AddTodo command, AggregateStore aggregates, CancellationToken ct) =>
{
    var stream = AggregateStore.StreamFor<Todo>(id);              // "Todo-{id}"
    var todo = await aggregates.LoadAsync<Todo>(stream, ct);
    todo.Add(id, command.Title);
    return Results.Ok(await aggregates.SaveAsync(stream, todo, cancellationToken: ct));   // AppendResult as JSON
});

app.MapPost("/todos/{id}/done", async (string id, AggregateStore aggregates, CancellationToken ct) =>
{
    var stream = AggregateStore.StreamFor<Todo>(id);
    var todo = await aggregates.LoadAsync<Todo>(stream, ct);
    todo.Complete(id);
    return Results.Ok(await aggregates.SaveAsync(stream, todo, cancellationToken: ct));
});

// Raw events of one stream, straight from IEventStore (RecordedEvent serializes to JSON as it is).
app.MapGet("/todos/{id}/events", (string id, IEventStore store, CancellationToken ct) =>
    store.ReadStreamAsync(AggregateStore.StreamFor<Todo>(id), cancellationToken: ct));

// The read model; ?after={position from an append result} first waits until the projection has handled it.
app.MapGet("/todos", async (string? after, [FromKeyedServices("OpenTodos")] SubscriptionRunner runner, OpenTodos todos, CancellationToken ct) =>
{
    if (after is not null) await runner.WaitForPositionAsync(Position.Parse(after), ct);
    return Results.Ok(todos.Titles);
});

app.Run();

[EventType("TodoAdded")] public sealed record TodoAdded(string Id, string Title);
[EventType("TodoCompleted")] public sealed record TodoCompleted(string Id);
public sealed record AddTodo(string Title);

public sealed record TodoState : AggregateState<TodoState>
{
    public TodoState()
    {
        On<TodoAdded>((s, e) => s with { Title = e.Title });
        On<TodoCompleted>((s, _) => s with { Done = true });
    }
    public string? Title { get; init; }
    public bool Done { get; init; }
}

public sealed class Todo : Aggregate<TodoState>
{
    public void Add(string id, string title)
    {
        EnsureDoesNotExist();
        Apply(new TodoAdded(id, title));
    }
    public void Complete(string id)
    {
        EnsureExists();
        if (!State.Done) Apply(new TodoCompleted(id));
    }
}

public sealed class OpenTodos : Projection
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _open = new();
    public OpenTodos()
    {
        On<TodoAdded>((e, envelope) => { _open[e.Id] = e.Title; });
        On<TodoCompleted>((e, envelope) => { _open.TryRemove(e.Id, out _); });
    }
    public IReadOnlyList<string> Titles => [.. _open.Values.Order(StringComparer.Ordinal)];
    public override Task ResetAsync(CancellationToken ct) { _open.Clear(); return Task.CompletedTask; }
}
