using EventStore.Providers.EventStoreDB;

namespace EventStore.Providers.EventStoreDB.Tests;

public sealed class ConnectionStringTests
{
    private const string Key = "EventStore:EventStoreDB:ConnectionString";

    [Fact]
    public void An_insecure_single_node_string_gives_host_port_and_cleartext()
    {
        var cs = EventStoreDBConnectionString.Parse("esdb://localhost:2113?tls=false");
        Assert.Equal([new EventStoreDBEndpoint("localhost", 2113)], cs.Endpoints);
        Assert.False(cs.Tls);
        Assert.False(cs.HasCredentials);
        Assert.Equal("leader", cs.NodePreference);
    }

    [Fact]
    public void Kurrentdb_scheme_several_hosts_credentials_and_settings_are_all_read()
    {
        var cs = EventStoreDBConnectionString.Parse(
            "kurrentdb://admin:changeit@node1:2111,node2,[::1]:2113?tls=true&tlsVerifyCert=false&keepAliveInterval=5000&keepAliveTimeout=-1&defaultDeadline=2500&connectionName=orders&nodePreference=follower&maxRetries=5");
        Assert.Equal("kurrentdb", cs.Scheme);
        Assert.Equal([new("node1", 2111), new("node2", 2113), new("::1", 2113)], cs.Endpoints);
        Assert.Equal("admin", cs.UserName);
        Assert.Equal("changeit", cs.Password);
        Assert.True(cs.Tls);
        Assert.False(cs.TlsVerifyCert);
        Assert.Equal(TimeSpan.FromSeconds(5), cs.KeepAliveInterval);
        Assert.Equal(Timeout.InfiniteTimeSpan, cs.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), cs.DefaultDeadline);
        Assert.Equal("orders", cs.ConnectionName);
        Assert.Equal("follower", cs.NodePreference);
        Assert.Equal(5, cs.MaxRetries);
    }

    [Fact]
    public void Setting_names_are_case_insensitive_and_tls_defaults_to_on()
    {
        Assert.True(EventStoreDBConnectionString.Parse("esdb://h").Tls);
        Assert.False(EventStoreDBConnectionString.Parse("esdb://h?TLS=False").Tls);
    }

    [Fact]
    public void Percent_encoded_credentials_are_decoded()
    {
        var cs = EventStoreDBConnectionString.Parse("esdb://us%40er:p%3Fss@h:1?tls=false");
        Assert.Equal("us@er", cs.UserName);
        Assert.Equal("p?ss", cs.Password);
    }

    [Theory]
    [InlineData(null, "is missing")]
    [InlineData("  ", "is missing")]
    [InlineData("localhost:2113", "no scheme")]
    [InlineData("http://localhost:2113", "scheme 'http'")]
    [InlineData("esdb+discover://cluster:2113", "gossip discovery is not supported")]
    [InlineData("esdb://", "names no host")]
    [InlineData("esdb://host:99999", "port '99999'")]
    [InlineData("esdb://host:abc", "port 'abc'")]
    [InlineData("esdb://a,,b", "empty host")]
    [InlineData("esdb://host?tls=maybe", "tls='maybe'")]
    [InlineData("esdb://host?keepAliveInterval=soon", "keepAliveInterval='soon'")]
    [InlineData("esdb://host?defaultDeadline=-1", "defaultDeadline='-1'")]
    [InlineData("esdb://host?frobnicate=1", "unknown setting 'frobnicate'")]
    [InlineData("esdb://host?tls", "without a value")]
    [InlineData("esdb://host?nodePreference=nearest", "nodePreference='nearest'")]
    [InlineData("esdb://useronly@host", "username:password@")]
    public void A_bad_connection_string_is_rejected_naming_the_key_and_the_problem(string? text, string problem)
    {
        var e = Assert.Throws<EventStoreConfigurationException>(() => EventStoreDBConnectionString.Parse(text));
        Assert.Equal(Key, e.Key);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_masks_the_password()
    {
        var cs = EventStoreDBConnectionString.Parse("esdb://admin:s3cr3t-Pa55@localhost:2113?tls=false");
        var text = cs.ToString();
        Assert.DoesNotContain("s3cr3t-Pa55", text, StringComparison.Ordinal);
        Assert.Equal("esdb://admin:***@localhost:2113?tls=false", text);
    }

    [Theory]
    [InlineData("esdb://admin:s3cr3tPa55@host:notaport?tls=false")]
    [InlineData("esdb://admin:s3cr3tPa55@host?tls=perhaps")]
    [InlineData("esdb://admin:s3cr?3tPa55@host:2113")]
    [InlineData("esdb://admin:s3cr3tPa55@host?nope=1")]
    public void Rejection_messages_never_contain_the_password(string text)
    {
        var e = Assert.Throws<EventStoreConfigurationException>(() => EventStoreDBConnectionString.Parse(text));
        Assert.DoesNotContain("3tPa55", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("3tPa55", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Options_validation_names_the_section_keys()
    {
        var missing = Assert.Throws<EventStoreConfigurationException>(() => new EventStoreDBEventStoreOptions().Validate());
        Assert.Equal(Key, missing.Key);
        var prefix = Assert.Throws<EventStoreConfigurationException>(() => new EventStoreDBEventStoreOptions { ConnectionString = "esdb://h?tls=false", StreamPrefix = "a-b" }.Validate());
        Assert.Equal("EventStore:EventStoreDB:StreamPrefix", prefix.Key);
        var batch = Assert.Throws<EventStoreConfigurationException>(() => new EventStoreDBEventStoreOptions { ConnectionString = "esdb://h?tls=false", BatchAppendMaxBytes = -1 }.Validate());
        Assert.Equal("EventStore:EventStoreDB:BatchAppendMaxBytes", batch.Key);
    }
}
