using System.Globalization;

namespace EventStore.Providers.Bench.Core;

/// <summary>What one bench run measures and how big it is; parsed from the command line.</summary>
internal sealed record BenchOptions
{
    public static readonly string[] AllProviders = ["inmemory", "postgres", "dynamodb", "kafka", "esdb"];

    public static readonly string[] AllWorkloads =
        ["append-1w", "append-8w", "append-16w", "append-race", "batch-100", "read-stream", "read-all", "subscription", "aggregate", "under-load", "projection", "scale", "groups"];

    public bool Quick { get; init; }
    public IReadOnlyList<string> Providers { get; init; } = AllProviders;
    public IReadOnlyList<string> Workloads { get; init; } = AllWorkloads;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(3);
    public string? OutputRoot { get; init; }
    public int StreamReadSize { get; init; } = 10_000;
    public int AllReadSize { get; init; } = 100_000;
    public IReadOnlyList<long> ScaleSizes { get; init; } = [0, 10_000, 100_000, 1_000_000];
    /// <summary>How long the scale curve may spend filling one store before it stops at the size it reached.</summary>
    public TimeSpan ScaleFillBudget { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How long any other set-up fill (read workloads) may take before it stops at the size it reached.</summary>
    public TimeSpan SetupFillBudget { get; init; } = TimeSpan.FromSeconds(20);
    public int AggregateEvents { get; init; } = 1_000;
    public int AggregateCount { get; init; } = 10;
    /// <summary>Events the projection workload's backlog holds before its runner starts.</summary>
    public int ProjectionBacklog { get; init; } = 100_000;
    /// <summary>Events the groups workload's backlog holds before 1, 2 and 4 group instances handle it.</summary>
    public int GroupBacklog { get; init; } = 50_000;
    public bool Charts { get; init; } = true;

    public bool Runs(string workload) => Workloads.Contains(workload, StringComparer.OrdinalIgnoreCase);

    public static string Usage => """
        EventStore.Providers.Bench: the same workloads against every available provider, with peers and raw limits.

          --quick                 small sizes and 0.6 s per timed workload, every workload but groups unless
                                  --workloads names it (under 90 s on 2 cores)
          --providers a,b         any of: inmemory, postgres, dynamodb, kafka, esdb (default: all)
          --workloads a,b         any of: append-1w, append-8w, append-race, batch-100, read-stream, read-all,
                                  subscription, aggregate, under-load, projection, scale, groups (default: all)
          --duration SECONDS      length of each timed workload (default 3, quick 0.6)
          --out DIR               artifacts root (default artifacts/bench); a <timestamp> folder is made inside
          --scale-sizes a,b,c     store sizes of the scale curve (default 0,10000,100000,1000000)
          --scale-budget SECONDS  time allowed for filling the scale curve's stores (default 60)
          --stream-size N         events in the stream read (default 10000)
          --all-size N            events in the $all catch-up (default 100000)
          --projection-backlog N  events a projection catches up on before its live phase (default 100000)
          --group-backlog N       events 1, 2 and 4 subscription-group instances catch up on (default 50000)
          --no-charts             skip the PNG charts
          --update-readme FILE    rewrite README.md's generated benchmark section from a results.md (nothing is run)
        Servers (tests/TestServers): EVENTSTORE_POSTGRES_CONNECTION, EVENTSTORE_DYNAMODB_URL, EVENTSTORE_KAFKA_BOOTSTRAP,
        EVENTSTORE_ESDB_CONNECTION; else a Testcontainers container where Docker is reachable; else eng/postgres.sh
        (durable), eng/dynalite.sh and librdkafka's in-process mock cluster. EventStoreDB has no local server.
        BENCH_POSTGRES_OPTIONS="AppendConcurrency=1;NotifyOnAppend=false" sets EventStore:Postgres:* options of the
        PostgreSQL store under test (defaults otherwise).
        """;

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var quick = args.Contains("--quick");
        var o = quick
            ? new BenchOptions
            {
                Quick = true,
                Duration = TimeSpan.FromSeconds(0.6),
                StreamReadSize = 2_000,
                AllReadSize = 5_000,
                ScaleSizes = [0, 10_000],
                ScaleFillBudget = TimeSpan.FromSeconds(4),
                SetupFillBudget = TimeSpan.FromSeconds(3),
                AggregateEvents = 200,
                AggregateCount = 3,
                ProjectionBacklog = 5_000,
                GroupBacklog = 3_000,
                // Group instances spend seconds joining and handing shares over whatever the backlog, so a quick run
                // measures them only when named (--workloads groups).
                Workloads = [.. AllWorkloads.Where(w => w != "groups")],
            }
            : new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{a} needs a value.");
            switch (a)
            {
                case "--quick": break;
                case "--no-charts": o = o with { Charts = false }; break;
                case "--providers": o = o with { Providers = List(Next(), AllProviders, a) }; break;
                case "--workloads": o = o with { Workloads = List(Next(), AllWorkloads, a) }; break;
                case "--duration":
                    var d = double.Parse(Next(), CultureInfo.InvariantCulture);
                    if (d <= 0) throw new ArgumentException("--duration must be more than 0 seconds.");
                    o = o with { Duration = TimeSpan.FromSeconds(d) };
                    break;
                case "--out": o = o with { OutputRoot = Next() }; break;
                case "--scale-sizes":
                    o = o with { ScaleSizes = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).Order()] };
                    break;
                case "--scale-budget": o = o with { ScaleFillBudget = TimeSpan.FromSeconds(Positive(Next(), a)) }; break;
                case "--stream-size": o = o with { StreamReadSize = Positive(Next(), a) }; break;
                case "--all-size": o = o with { AllReadSize = Positive(Next(), a) }; break;
                case "--projection-backlog": o = o with { ProjectionBacklog = Positive(Next(), a) }; break;
                case "--group-backlog": o = o with { GroupBacklog = Positive(Next(), a) }; break;
                default: throw new ArgumentException($"Unknown option '{a}'.");
            }
        }
        return o;
    }

    private static int Positive(string text, string option)
    {
        var n = int.Parse(text, CultureInfo.InvariantCulture);
        return n > 0 ? n : throw new ArgumentException($"{option} must be more than 0.");
    }

    private static string[] List(string text, string[] known, string option)
    {
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant()).ToArray();
        var unknown = items.Where(i => !known.Contains(i)).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"{option}: unknown {string.Join(", ", unknown)}; known: {string.Join(", ", known)}.");
        return items;
    }
}
