using EventStore.Providers;
using EventStore.Providers.Projections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrderSample;

// The provider comes from configuration: appsettings.json says InMemory; EventStore__Provider=Postgres (plus that
// provider's own keys, e.g. EventStore__Postgres__ConnectionString) switches the backend without a code change.
// The content root is the build output, so appsettings.json is found whatever directory the sample is run from.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddEventStore(builder.Configuration.GetSection("EventStore"), o => o.AddEventTypes(typeof(OrderPlaced).Assembly));
// The summary lives in memory, so its checkpoints do too: a durable checkpoint would make a restarted process resume
// after it with an empty summary (see the README's "trap").
builder.Services.AddProjection<OrderSummaryProjection>("OrderSummary", o => o.StoreCheckpoints = false);
builder.Services.AddSingleton<OrderCommands>();

using var host = builder.Build();
using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
var ct = timeout.Token;
await host.StartAsync(ct);

var store = host.Services.GetRequiredService<IEventStore>();
var commands = host.Services.GetRequiredService<OrderCommands>();
Console.WriteLine($"Provider: {store.Capabilities.ProviderName}");

// Order ids are unique per run so the sample can run repeatedly against a persistent backend.
var run = DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
(string Customer, decimal Amount)[] orders = [("Ada", 120.50m), ("Grace", 42.00m), ("Alan", 310.25m), ("Edsger", 18.99m), ("Barbara", 77.10m)];
var ids = new List<string>();
for (var i = 0; i < orders.Length; i++)
{
    var id = $"{run}-{i + 1}";
    ids.Add(id);
    await commands.HandleAsync(new PlaceOrder(id, orders[i].Customer, orders[i].Amount), ct);
    Console.WriteLine($"Placed  {id} for {orders[i].Customer}: {orders[i].Amount,8:0.00}");
}
foreach (var id in ids.Where((_, i) => i % 2 == 0))
{
    await commands.HandleAsync(new ShipOrder(id, "DHL"), ct);
    Console.WriteLine($"Shipped {id} with DHL");
}

try
{
    await commands.HandleAsync(new ShipOrder(ids[0], "UPS"), ct);
}
catch (InvalidOperationException e)
{
    Console.WriteLine($"Refused: {e.Message}");
}

// Read-your-writes for the summary: wait until the projection has passed everything written so far.
var head = await store.GetHeadPositionAsync(ct);
var runner = host.Services.GetRequiredKeyedService<SubscriptionRunner>("OrderSummary");
await runner.WaitForPositionAsync(head, ct);

var summary = host.Services.GetRequiredService<OrderSummaryProjection>().Orders.Where(o => ids.Contains(o.OrderId)).ToList();
Console.WriteLine();
Console.WriteLine($"{"Order",-18} {"Customer",-10} {"Amount",8}  Status");
foreach (var line in summary)
    Console.WriteLine($"{line.OrderId,-18} {line.Customer,-10} {line.Amount,8:0.00}  {(line.Carrier is null ? "placed" : $"shipped ({line.Carrier})")}");
Console.WriteLine($"{summary.Count} orders, {summary.Count(o => o.Carrier is not null)} shipped, total {summary.Sum(o => o.Amount):0.00}");

await host.StopAsync(ct);
return summary.Count == orders.Length ? 0 : 1;
