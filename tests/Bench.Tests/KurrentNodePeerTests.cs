using EventStore.Providers.Bench.Core;
using EventStore.Providers.Bench.Reporting;
using EventStore.Providers.Bench.Targets;
using Xunit;

namespace EventStore.Providers.Bench.Tests;

/// <summary>
/// The EventStoreDB peer (the official Node.js client) needs a node to run; without one, what can be checked is the
/// command line it gets, how its output is read, and the ratios drawn from it.
/// </summary>
public sealed class KurrentNodePeerTests
{
    [Fact]
    public void The_script_gets_the_same_workloads_sizes_payload_and_event_type_as_the_provider()
    {
        var options = new BenchOptions { Duration = TimeSpan.FromSeconds(2.5), StreamReadSize = 1234, AllReadSize = 5678 };

        var args = KurrentNodePeer.Arguments(options, ["append-1w", "read-all"], "esdb://127.0.0.1:2113?tls=false", "r1");

        Assert.Equal(KurrentNodePeer.ScriptName, args[0]);
        string Value(string name) => args[args.IndexOf(name) + 1];
        Assert.Equal("esdb://127.0.0.1:2113?tls=false", Value("--connection"));
        Assert.Equal("append-1w,read-all", Value("--workloads"));
        Assert.Equal("2500", Value("--duration-ms"));
        Assert.Equal("1234", Value("--stream-read-size"));
        Assert.Equal("5678", Value("--all-read-size"));
        Assert.Equal(Payload.Json, Convert.FromBase64String(Value("--payload-base64")));
        Assert.Equal(Payload.EventType, Value("--event-type"));
        Assert.Equal("r1", Value("--run"));
    }

    [Fact]
    public void The_scripts_json_lines_become_measurements_and_anything_else_is_ignored()
    {
        var stdout = """
            (node:1) Warning: something the client prints
            {"workload":"append-1w","operations":300,"events":300,"seconds":3.0,"method":"appendToStream of 1 event"}

            {"workload":"read-all","operations":2,"events":200000,"seconds":3.1,"method":"readAll forwards"}
            """;

        var measurements = KurrentNodePeer.Parse(stdout);

        Assert.Equal(["append-1w", "read-all"], measurements.Select(m => m.Workload));
        Assert.All(measurements, m => Assert.Equal(("esdb", KurrentNodePeer.Package, "ok"), (m.Backend, m.Subject, m.Status)));
        Assert.Equal(100, measurements[0].EventsPerSecond, 3);
        Assert.Equal(200_000, measurements[1].Events);
        Assert.Equal("appendToStream of 1 event", measurements[0].Method);
    }

    [Fact]
    public void Each_workload_gets_a_ratio_against_the_node_client_which_is_a_peer_not_a_limit()
    {
        var results = new BenchResults
        {
            Timestamp = "t",
            Environment = EnvironmentInfo.Capture(),
            Settings = [],
            Subjects = [new SubjectRun("esdb", "EventStoreDB", "ok", null, null, 1)],
            Measurements =
            [
                new Measurement { Backend = "esdb", Subject = "EventStoreDB", Workload = "append-1w", Events = 120, Seconds = 1 },
                new Measurement { Backend = "esdb", Subject = KurrentNodePeer.Package, Workload = "append-1w", Events = 100, Seconds = 1 },
            ],
        };

        var ratios = Ratios.Compute(results).Where(r => r.Backend == "esdb").ToList();

        Assert.Equal(5, ratios.Count);
        var append = Assert.Single(ratios, r => r.Numerator == "EventStoreDB append-1w");
        Assert.Equal(1.2, append.Value!.Value, 3);
        Assert.True(append.Met);
        Assert.False(append.PeerIsLimit);
        Assert.All(ratios.Where(r => r != append), r => Assert.Null(r.Value));
    }
}
