namespace EventStore.Providers.TestServers;

/// <summary>How a local PostgreSQL trades durability for speed (eng/postgres.sh's modes).</summary>
public enum PostgresMode
{
    /// <summary>fsync, synchronous_commit and full_page_writes off: tests only.</summary>
    Fast,

    /// <summary>PostgreSQL's durable defaults: benchmarks.</summary>
    Durable,

    /// <summary>synchronous_commit on, fsync off: a killed server loses no acknowledged commit (server-crash tests).</summary>
    CrashSafe,
}

/// <summary>
/// One server started through the project's eng/ scripts (eng/postgres.sh, eng/dynalite.sh), the only code that starts
/// local servers. Each has its own name, so its data and port are its own; disposing it stops it.
/// </summary>
public sealed class LocalServer : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan CommandLimit = TimeSpan.FromMinutes(1);
    private readonly string _script;
    private readonly string _root;
    private readonly string? _deleteWhenStopped;
    private bool _stopped;

    private LocalServer(string script, string root, string name, string address, string? deleteWhenStopped)
    {
        _script = script;
        _root = root;
        Name = name;
        Address = address;
        _deleteWhenStopped = deleteWhenStopped;
    }

    /// <summary>The server's name (the script's <c>--name</c>).</summary>
    public string Name { get; }

    /// <summary>The connection string (PostgreSQL) or endpoint URL (dynalite).</summary>
    public string Address { get; }

    /// <summary>The script that runs it, for messages, e.g. <c>eng/postgres.sh --name run-42</c>.</summary>
    public string Command => $"eng/{_script}.sh --name {Name}";

    /// <summary>Starts a PostgreSQL 15 named <paramref name="name"/> with eng/postgres.sh (it installs the binaries when missing).</summary>
    /// <exception cref="InvalidOperationException">The script failed; the message carries its output.</exception>
    public static Task<LocalServer> StartPostgresAsync(string name, PostgresMode mode = PostgresMode.Fast, CancellationToken cancellationToken = default)
    {
        string[] options = mode switch
        {
            PostgresMode.Durable => ["--durable"],
            PostgresMode.CrashSafe => ["--crash-safe"],
            _ => [],
        };
        return StartAsync("postgres", name, options, ServerSelection.PostgresVariable, null, cancellationToken);
    }

    /// <summary>
    /// Starts a dynalite named <paramref name="name"/> with eng/dynalite.sh (it installs dynalite when missing). With
    /// <paramref name="persistent"/> its tables live in a folder of their own (deleted when the server is disposed), so
    /// they survive <see cref="CrashAsync"/>; otherwise in memory.
    /// </summary>
    /// <exception cref="InvalidOperationException">The script failed; the message carries its output.</exception>
    public static Task<LocalServer> StartDynaliteAsync(string name, bool persistent = false, CancellationToken cancellationToken = default)
    {
        var path = persistent ? Path.Combine(Path.GetTempPath(), $"eventstore-dynalite-{name}-{Guid.NewGuid():N}") : null;
        return StartAsync("dynalite", name, path is null ? [] : ["--path", path], ServerSelection.DynamoDBVariable, path, cancellationToken);
    }

    private static async Task<LocalServer> StartAsync(string script, string name, string[] options, string variable, string? deleteWhenStopped, CancellationToken cancellationToken)
    {
        var root = RepositoryRoot.Find();
        var output = await RunAsync(root, script, ["start", .. options, "--name", name], StartLimit, cancellationToken).ConfigureAwait(false);
        var address = ReadVariable(output, variable)
            ?? throw new InvalidOperationException($"eng/{script}.sh start --name {name} printed no {variable} line: {output}");
        return new LocalServer(script, root, name, address, deleteWhenStopped);
    }

    /// <summary>Kills the server the hard way (PostgreSQL: immediate stop; dynalite: SIGKILL); its data and port are kept.</summary>
    public Task CrashAsync(CancellationToken cancellationToken = default) => RunAsync(_root, _script, ["crash", "--name", Name], CommandLimit, cancellationToken);

    /// <summary>Starts the server again after <see cref="CrashAsync"/>, over the same data on the same port.</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken = default) => RunAsync(_root, _script, ["restart", "--name", Name], StartLimit, cancellationToken);

    /// <summary>Stops the server and removes its data.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopped) return;
        _stopped = true;
        await RunAsync(_root, _script, ["stop", "--name", Name], CommandLimit, CancellationToken.None).ConfigureAwait(false);
        if (_deleteWhenStopped is not null && Directory.Exists(_deleteWhenStopped)) Directory.Delete(_deleteWhenStopped, recursive: true);
    }

    private static Task<string> RunAsync(string root, string script, string[] args, TimeSpan limit, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync("bash", [Path.Combine(root, "eng", $"{script}.sh"), .. args], limit, cancellationToken, workingDirectory: root);

    /// <summary>The value of <c>NAME=value</c> (quotes removed) in a script's output, or null.</summary>
    public static string? ReadVariable(string output, string name)
    {
        foreach (var line in output.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith("export ", StringComparison.Ordinal)) trimmed = trimmed[7..].TrimStart();
            if (trimmed.StartsWith(name + "=", StringComparison.Ordinal)) return trimmed[(name.Length + 1)..].Trim().Trim('\'', '"');
        }
        return null;
    }
}

/// <summary>Finds the repository (the folder holding EventStore.Providers.sln), where the eng/ scripts live.</summary>
public static class RepositoryRoot
{
    /// <summary>The repository root above the running assembly (or the current directory).</summary>
    /// <exception cref="InvalidOperationException">Neither is inside a checkout of this repository.</exception>
    public static string Find() => TryFind() ?? throw new InvalidOperationException(
        $"The repository root (EventStore.Providers.sln) was not found above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()}, so eng/ cannot start a local server. " +
        "Name a server through the environment instead (see README, \"Running the tests against your own servers\").");

    /// <summary>The repository root, or null outside a checkout.</summary>
    public static string? TryFind()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "EventStore.Providers.sln"))) return dir.FullName;
        }
        return null;
    }
}
