using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using EventStore.Providers.InMemory;
using EventStore.Providers.Serialization;
using Microsoft.Extensions.Time.Testing;

namespace EventStore.Providers.Abstractions.Tests;

public class EventTypeRegistryTests
{
    [Fact]
    public void An_attributed_type_is_known_by_its_attribute_name_and_schema_version()
    {
        var registry = new EventTypeRegistry().RegisterAssembly(typeof(OrderPlaced).Assembly);

        var registration = registry.GetRegistration("TestCustomerRegistered");

        Assert.Equal(typeof(CustomerRegistered), registration.ClrType);
        Assert.Equal(3, registration.SchemaVersion);
        Assert.Equal("TestOrderPlaced", registry.GetName(typeof(OrderPlaced)));
    }

    [Fact]
    public void An_explicit_registration_overrides_the_class_name()
    {
        var registry = new EventTypeRegistry().Register<PlainEvent>("plain.v1", schemaVersion: 4);

        Assert.Equal("plain.v1", registry.GetName(typeof(PlainEvent)));
        Assert.Equal(4, registry.GetRegistration("plain.v1").SchemaVersion);
    }

    [Fact]
    public void An_unknown_stored_name_gives_a_typed_error_naming_it()
    {
        var registry = new EventTypeRegistry();

        var error = Assert.Throws<UnknownEventTypeException>(() => registry.GetRegistration("NoSuchEvent"));

        Assert.Equal("NoSuchEvent", error.EventType);
        Assert.Contains("NoSuchEvent", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unattributed_unregistered_clr_type_gives_a_typed_error_naming_it()
    {
        var error = Assert.Throws<UnknownEventTypeException>(() => new EventTypeRegistry().GetName(typeof(PlainEvent)));

        Assert.Equal(typeof(PlainEvent), error.ClrType);
    }

    [Fact]
    public void An_attributed_type_registers_itself_on_first_use()
    {
        var registry = new EventTypeRegistry();

        Assert.Equal("TestOrderShipped", registry.GetName(typeof(OrderShipped)));
        Assert.True(registry.TryGetRegistration("TestOrderShipped", out _));
    }

    [Fact]
    public void Two_types_cannot_share_one_stored_name()
    {
        var registry = new EventTypeRegistry().Register<OrderPlaced>();

        Assert.Throws<ArgumentException>(() => registry.Register<PlainEvent>("TestOrderPlaced"));
    }

    [Fact]
    public void A_schema_version_below_one_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new EventTypeRegistry().Register<PlainEvent>(schemaVersion: 0));
    }

    public sealed record PlainEvent(int Value);
}

public class JsonEventSerializerTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static JsonEventSerializer NewSerializer(TimeProvider? time = null) =>
        new(new EventTypeRegistry().RegisterAssembly(typeof(OrderPlaced).Assembly), timeProvider: time);

    [Fact]
    public async Task Typed_events_round_trip_through_the_store_with_their_envelope()
    {
        var store = new InMemoryEventStore();
        var serializer = NewSerializer();
        var stream = Streams.NewOrder();
        var metadata = new EventMetadata { CorrelationId = "corr-1", CausationId = "cause-1", UserId = "alice", Timestamp = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero) }
            .WithHeader("tenant", "acme");

        var result = await store.AppendEventsAsync(serializer, stream, ExpectedVersion.NoStream, [new OrderPlaced("o-1", 12.5m), new OrderShipped("o-1", "DHL")], metadata, Ct);
        var read = await store.ReadEventsAsync(serializer, stream, cancellationToken: Ct).ToListAsync(Ct);

        Assert.Equal(1, result.LastVersion);
        Assert.Equal([new OrderPlaced("o-1", 12.5m), new OrderShipped("o-1", "DHL")], read.Select(e => e.Event));
        Assert.All(read, e => Assert.Equal(metadata, e.Metadata));
        Assert.Equal(["TestOrderPlaced", "TestOrderShipped"], read.Select(e => e.EventType));
    }

    [Fact]
    public void Serialized_events_are_json_with_the_registered_schema_version()
    {
        var data = NewSerializer().Serialize(new CustomerRegistered("Ada", "Lovelace", "UK"));

        Assert.Equal("application/json", data.ContentType);
        Assert.Equal(3, data.SchemaVersion);
        Assert.Equal("TestCustomerRegistered", data.EventType);
        var json = JsonNode.Parse(data.Data.Span)!.AsObject();
        Assert.Equal("Ada", (string?)json["first"]);
        Assert.NotEqual(Guid.Empty, data.EventId);
    }

    [Fact]
    public void The_envelope_takes_correlation_and_causation_from_the_current_activity()
    {
        using var activity = new Activity("handle-request").SetIdFormat(ActivityIdFormat.W3C).Start();

        var data = NewSerializer().Serialize(new OrderPlaced("o-2", 1m));
        var metadata = NewSerializer().DeserializeMetadata(data.Metadata);

        Assert.Equal(activity.TraceId.ToHexString(), metadata.CorrelationId);
        Assert.Equal(activity.SpanId.ToHexString(), metadata.CausationId);
    }

    [Fact]
    public void Explicit_metadata_wins_over_the_current_activity()
    {
        using var activity = new Activity("handle-request").SetIdFormat(ActivityIdFormat.W3C).Start();

        var data = NewSerializer().Serialize(new OrderPlaced("o-3", 1m), new EventMetadata { CorrelationId = "mine" });
        var metadata = NewSerializer().DeserializeMetadata(data.Metadata);

        Assert.Equal("mine", metadata.CorrelationId);
        Assert.Equal(activity.SpanId.ToHexString(), metadata.CausationId);
    }

    [Fact]
    public void Without_an_activity_or_metadata_the_envelope_only_has_the_time()
    {
        var previous = Activity.Current;
        Activity.Current = null;
        try
        {
            var time = new FakeTimeProvider(new DateTimeOffset(2030, 5, 6, 7, 8, 9, TimeSpan.Zero));
            var serializer = NewSerializer(time);

            var metadata = serializer.DeserializeMetadata(serializer.Serialize(new OrderPlaced("o-4", 1m)).Metadata);

            Assert.Null(metadata.CorrelationId);
            Assert.Null(metadata.CausationId);
            Assert.Equal(time.GetUtcNow(), metadata.Timestamp);
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    [Fact]
    public void Caused_by_keeps_the_correlation_and_points_at_the_cause()
    {
        var cause = new EventEnvelope(Recorded("TestOrderPlaced", "{}"), new OrderPlaced("x", 1), new EventMetadata { CorrelationId = "flow-9", UserId = "bob" });

        var next = EventMetadata.CausedBy(cause);

        Assert.Equal("flow-9", next.CorrelationId);
        Assert.Equal(cause.EventId.ToString(), next.CausationId);
        Assert.Equal("bob", next.UserId);
    }

    [Fact]
    public void Metadata_that_is_not_an_envelope_reads_as_empty()
    {
        Assert.Equal(EventMetadata.Empty, NewSerializer().DeserializeMetadata(Encoding.UTF8.GetBytes("not json")));
        Assert.Equal(EventMetadata.Empty, NewSerializer().DeserializeMetadata(Encoding.UTF8.GetBytes("[1,2]")));
    }

    [Fact]
    public void Reading_an_event_of_an_unregistered_type_gives_a_typed_error()
    {
        var error = Assert.Throws<UnknownEventTypeException>(() => NewSerializer().Deserialize(Recorded("SomethingElse", "{}")));

        Assert.Equal("SomethingElse", error.EventType);
    }

    [Fact]
    public void Serializing_an_unregistered_type_gives_a_typed_error()
    {
        Assert.Throws<UnknownEventTypeException>(() => NewSerializer().Serialize(new EventTypeRegistryTests.PlainEvent(1)));
    }

    [Fact]
    public void A_payload_that_is_not_json_gives_a_deserialization_error()
    {
        var error = Assert.Throws<EventDeserializationException>(() => NewSerializer().Deserialize(Recorded("TestOrderPlaced", "{not json")));

        Assert.Equal("TestOrderPlaced", error.EventType);
    }

    [Fact]
    public void A_non_json_content_type_gives_a_deserialization_error()
    {
        var record = Recorded("TestOrderPlaced", "{}") with { ContentType = "application/octet-stream" };

        Assert.Throws<EventDeserializationException>(() => NewSerializer().Deserialize(record));
    }

    internal static RecordedEvent Recorded(string type, string json, int schemaVersion = 1) =>
        new(Streams.NewOrder(), 0, Position.FromInt64(1), Guid.NewGuid(), type, Encoding.UTF8.GetBytes(json), ReadOnlyMemory<byte>.Empty, EventData.JsonContentType, schemaVersion, DateTimeOffset.UtcNow);
}

public class UpcasterTests
{
    private static JsonEventSerializer SerializerWithChain()
    {
        var upcasters = new EventUpcasterRegistry()
            .Add("TestCustomerRegistered", 1, v1 => new JsonObject { ["fullName"] = (string?)v1["name"], ["country"] = "unknown" })
            .Add("TestCustomerRegistered", 2, v2 =>
            {
                var parts = ((string)v2["fullName"]!).Split(' ', 2);
                return new JsonObject { ["first"] = parts[0], ["last"] = parts[1], ["country"] = v2["country"]!.DeepClone() };
            });
        return new JsonEventSerializer(new EventTypeRegistry().Register<CustomerRegistered>(), upcasters);
    }

    [Fact]
    public void A_v1_event_goes_through_the_v1_and_v2_upcasters_before_it_is_deserialised()
    {
        var record = JsonEventSerializerTests.Recorded("TestCustomerRegistered", """{"name":"Grace Hopper"}""", schemaVersion: 1);

        var envelope = SerializerWithChain().Deserialize(record);

        Assert.Equal(new CustomerRegistered("Grace", "Hopper", "unknown"), envelope.Event);
    }

    [Fact]
    public void A_v2_event_only_goes_through_the_v2_upcaster()
    {
        var record = JsonEventSerializerTests.Recorded("TestCustomerRegistered", """{"fullName":"Alan Turing","country":"UK"}""", schemaVersion: 2);

        Assert.Equal(new CustomerRegistered("Alan", "Turing", "UK"), SerializerWithChain().Deserialize(record).Event);
    }

    [Fact]
    public void A_current_version_event_is_not_upcast()
    {
        var record = JsonEventSerializerTests.Recorded("TestCustomerRegistered", """{"first":"Ada","last":"Lovelace","country":"UK"}""", schemaVersion: 3);

        Assert.Equal(new CustomerRegistered("Ada", "Lovelace", "UK"), SerializerWithChain().Deserialize(record).Event);
    }

    [Fact]
    public void A_missing_step_in_the_chain_names_the_missing_version()
    {
        var serializer = new JsonEventSerializer(new EventTypeRegistry().Register<CustomerRegistered>(),
            new EventUpcasterRegistry().Add("TestCustomerRegistered", 1, o => o));
        var record = JsonEventSerializerTests.Recorded("TestCustomerRegistered", """{"name":"X Y"}""", schemaVersion: 1);

        var error = Assert.Throws<EventDeserializationException>(() => serializer.Deserialize(record));

        Assert.Contains("from schema version 2 to 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_event_newer_than_the_code_is_rejected_rather_than_misread()
    {
        var record = JsonEventSerializerTests.Recorded("TestCustomerRegistered", "{}", schemaVersion: 4);

        Assert.Throws<EventDeserializationException>(() => SerializerWithChain().Deserialize(record));
    }

    [Fact]
    public void Two_upcasters_for_the_same_type_and_version_are_rejected()
    {
        var upcasters = new EventUpcasterRegistry().Add("A", 1, o => o);

        Assert.Throws<ArgumentException>(() => upcasters.Add("A", 1, o => o));
    }

    [Fact]
    public void A_failing_upcaster_surfaces_as_a_deserialization_error_with_its_cause()
    {
        var serializer = new JsonEventSerializer(new EventTypeRegistry().Register<CustomerRegistered>(),
            new EventUpcasterRegistry().Add("TestCustomerRegistered", 1, _ => throw new FormatException("bad name")).Add("TestCustomerRegistered", 2, o => o));
        var record = JsonEventSerializerTests.Recorded("TestCustomerRegistered", "{}", schemaVersion: 1);

        var error = Assert.Throws<EventDeserializationException>(() => serializer.Deserialize(record));

        Assert.IsType<FormatException>(error.InnerException);
    }
}
