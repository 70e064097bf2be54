using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventStore.Providers;
using EventStore.Providers.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace WebSample.Tests;

/// <summary>
/// Drives the web sample over HTTP on one provider and checks what a client sees: JSON shapes, read-back, status codes,
/// health, and the projection catching up. The same cases run on every provider.
/// </summary>
public abstract class WebSampleTests(SampleHost host)
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private HttpClient Client => host.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_provider_comes_from_configuration()
    {
        var root = await Client.GetFromJsonAsync<JsonElement>("/", Ct);
        Assert.Equal(host.ExpectedProvider, root.GetProperty("provider").GetString());
    }

    [Fact]
    public async Task Health_is_200_Healthy()
    {
        using var response = await Client.GetAsync("/health", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task OpenTelemetry_traces_the_stores_calls()
    {
        Assert.NotNull(host.Services.GetService<TracerProvider>());
        Assert.NotNull(host.Services.GetService<MeterProvider>());
        var stream = $"Traced-{Guid.NewGuid():N}";
        var seen = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == EventStoreInstrumentation.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = seen.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await PostJsonAsync($"/streams/{stream}", new { events = new[] { new { type = "Traced", data = new { } } } });
        Assert.Contains(seen, a => a.OperationName == "eventstore.append" && (string?)a.GetTagItem("eventstore.stream") == stream);
    }

    [Fact]
    public async Task Append_returns_the_result_as_JSON_and_the_stream_reads_back_what_was_appended()
    {
        var stream = $"Web-{Guid.NewGuid():N}";
        var ids = new[] { Guid.NewGuid(), Guid.NewGuid() };
        var request = new
        {
            expectedVersion = "no-stream",
            events = new object[]
            {
                new { type = "Greeted", id = ids[0], data = new { name = "Ada", n = 1 } },
                new { type = "Waved", id = ids[1], data = new { hand = "left" } },
            },
        };

        var result = await PostJsonAsync($"/streams/{stream}", request);
        Assert.Equal(1, result.GetProperty("lastVersion").GetInt64());
        Assert.True(result.GetProperty("wroteEvents").GetBoolean());
        var position = PositionOf(result);

        var events = await GetJsonAsync($"/streams/{stream}");
        Assert.Equal(2, events.GetArrayLength());
        Assert.Equal([0L, 1L], events.EnumerateArray().Select(e => e.GetProperty("version").GetInt64()));
        Assert.Equal(ids, events.EnumerateArray().Select(e => e.GetProperty("eventId").GetGuid()));
        Assert.Equal(["Greeted", "Waved"], events.EnumerateArray().Select(e => e.GetProperty("eventType").GetString()));
        Assert.Equal("Ada", events[0].GetProperty("data").GetProperty("name").GetString());
        Assert.Equal("left", events[1].GetProperty("data").GetProperty("hand").GetString());
        Assert.All(events.EnumerateArray(), e => Assert.Equal(stream, e.GetProperty("stream").GetString()));
        Assert.Equal(position, PositionOf(events[1]));

        // The same batch again (same ids, same expectation) is a success that writes nothing.
        var retry = await PostJsonAsync($"/streams/{stream}", request);
        Assert.False(retry.GetProperty("wroteEvents").GetBoolean());
        Assert.Equal(1, retry.GetProperty("lastVersion").GetInt64());
        Assert.Equal(2, (await GetJsonAsync($"/streams/{stream}")).GetArrayLength());
    }

    [Fact]
    public async Task A_stale_expected_version_is_409_and_a_bad_stream_name_is_400()
    {
        var stream = $"Web-{Guid.NewGuid():N}";
        await PostJsonAsync($"/streams/{stream}", new { events = new[] { new { type = "Created", data = new { } } } });

        using var conflict = await Client.PostAsJsonAsync($"/streams/{stream}",
            new { expectedVersion = "no-stream", events = new[] { new { type = "Created", data = new { } } } }, Ct);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        var problem = await conflict.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(nameof(WrongExpectedVersionException), problem.GetProperty("title").GetString());

        using var badName = await Client.PostAsJsonAsync("/streams/NoDashHere%01", new { events = new[] { new { type = "X", data = 1 } } }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Equal(1, (await GetJsonAsync($"/streams/{stream}")).GetArrayLength());
    }

    [Fact]
    public async Task Category_and_all_reads_return_the_appended_events_in_position_order()
    {
        var category = "Cat" + Guid.NewGuid().ToString("N")[..10];
        var first = PositionOf(await PostJsonAsync($"/streams/{category}-a", new { events = new[] { new { type = "One", data = new { i = 1 } } } }));
        var second = PositionOf(await PostJsonAsync($"/streams/{category}-b", new { events = new[] { new { type = "Two", data = new { i = 2 } } } }));
        var third = PositionOf(await PostJsonAsync($"/streams/{category}-a", new { events = new[] { new { type = "Three", data = new { i = 3 } } } }));

        var inCategory = await GetJsonAsync($"/categories/{category}");
        Assert.Equal(["One", "Two", "Three"], inCategory.EnumerateArray().Select(e => e.GetProperty("eventType").GetString()));
        Assert.Equal([first, second, third], inCategory.EnumerateArray().Select(PositionOf));
        Assert.Equal(["a", "b", "a"], inCategory.EnumerateArray().Select(e => e.GetProperty("stream").GetString()![(category.Length + 1)..]));

        // $all after the first append's position: a checkpoint taken from one response is accepted by the next request.
        var all = await GetJsonAsync($"/all?after={Uri.EscapeDataString(first)}&max=1000");
        var ours = all.EnumerateArray().Where(e => e.GetProperty("stream").GetString()!.StartsWith(category + "-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["Two", "Three"], ours.Select(e => e.GetProperty("eventType").GetString()));
        Assert.DoesNotContain(all.EnumerateArray(), e => PositionOf(e) == first);

        using var badPosition = await Client.GetAsync("/all?after=not-a-position", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badPosition.StatusCode);
    }

    [Fact]
    public async Task The_aggregate_enforces_its_rules_and_the_projection_catches_up()
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var opened = await PostJsonAsync($"/accounts/{id}", new { owner = "Ada" });
        Assert.Equal(0, opened.GetProperty("lastVersion").GetInt64());
        await PostJsonAsync($"/accounts/{id}/deposits", new { amount = 100m });
        var last = await PostJsonAsync($"/accounts/{id}/withdrawals", new { amount = 30m });
        Assert.Equal(2, last.GetProperty("lastVersion").GetInt64());

        using var overdraw = await Client.PostAsJsonAsync($"/accounts/{id}/withdrawals", new { amount = 500m }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, overdraw.StatusCode);
        using var reopen = await Client.PostAsJsonAsync($"/accounts/{id}", new { owner = "Eve" }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reopen.StatusCode);

        var account = await GetJsonAsync($"/accounts/{id}");
        Assert.Equal(70m, account.GetProperty("balance").GetDecimal());
        Assert.Equal(2, account.GetProperty("version").GetInt64());
        Assert.Equal("Ada", account.GetProperty("owner").GetString());

        var balances = await GetJsonAsync($"/balances?after={Uri.EscapeDataString(PositionOf(last))}");
        var row = Assert.Single(balances.GetProperty("accounts").EnumerateArray(), r => r.GetProperty("accountId").GetString() == id);
        Assert.Equal(70m, row.GetProperty("balance").GetDecimal());
        Assert.Equal(PositionOf(last), PositionOf(row));
        Assert.Equal("Live", balances.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_restarted_process_rebuilds_the_in_memory_read_model_from_the_whole_log()
    {
        Assert.SkipUnless(host.Durable, "the in-memory store does not outlive its process, so there is nothing to restart over");
        var id = Guid.NewGuid().ToString("N")[..12];
        string last;
        await using (var first = host.CreateHost())
        {
            var client = first.CreateClient();
            await Send(client, HttpMethod.Post, $"/accounts/{id}", new { owner = "Grace" });
            last = PositionOf(await Send(client, HttpMethod.Post, $"/accounts/{id}/deposits", new { amount = 42m }));
            await Send(client, HttpMethod.Get, $"/balances?after={Uri.EscapeDataString(last)}");
        } // stopping the host stops the projection, which stores its checkpoint (were checkpoints stored durably)

        await using var second = host.CreateHost();
        var balances = await Send(second.CreateClient(), HttpMethod.Get, $"/balances?after={Uri.EscapeDataString(last)}");
        var row = Assert.Single(balances.GetProperty("accounts").EnumerateArray(), r => r.GetProperty("accountId").GetString() == id);
        Assert.Equal(42m, row.GetProperty("balance").GetDecimal());
    }

    /// <summary>A position travels as a JSON string that <see cref="Position.Parse"/> reads back.</summary>
    private static string PositionOf(JsonElement element)
    {
        var position = element.GetProperty("position");
        Assert.True(position.ValueKind == JsonValueKind.String, $"position should be a JSON string, was {position.ValueKind}: {position.GetRawText()}");
        var text = position.GetString()!;
        Assert.Equal(text, Position.Parse(text).ToString());
        return text;
    }

    private Task<JsonElement> PostJsonAsync(string path, object body) => Send(Client, HttpMethod.Post, path, body);

    private Task<JsonElement> GetJsonAsync(string path) => Send(Client, HttpMethod.Get, path);

    /// <summary>Sends a request that must succeed and returns its JSON answer.</summary>
    private static async Task<JsonElement> Send(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: Web) };
        using var response = await client.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

public sealed class InMemoryWebSampleTests(InMemoryHost host) : WebSampleTests(host), IClassFixture<InMemoryHost>;

public sealed class PostgresWebSampleTests(PostgresHost host) : WebSampleTests(host), IClassFixture<PostgresHost>;

public sealed class DynamoDBWebSampleTests(DynamoDBHost host) : WebSampleTests(host), IClassFixture<DynamoDBHost>;
