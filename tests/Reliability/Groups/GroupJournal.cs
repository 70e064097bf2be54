using System.Globalization;

namespace EventStore.Providers.Reliability.Tests.Groups;

/// <summary>One group instance's hold on one share: from a take to its loss or give-back.</summary>
public sealed record Tenure(string Instance, int Share, long Token);

/// <summary>The handler got an event (H line).</summary>
public sealed record Handling(Tenure Tenure, string Stream, long Version, Guid Id, long Ticks);

/// <summary>
/// The runner stored a share's checkpoint (C line, written when the store answered at <see cref="Ticks"/>). The save
/// began after <see cref="StartedAfterTicks"/>, the instance's previous H or C line (handling and saving take turns in
/// one loop): a process paused between the save and its log line writes the line long after the store took the write.
/// </summary>
public sealed record StoredCheckpoint(Tenure Tenure, long Ticks, string Position, long StartedAfterTicks);

/// <summary>The instance took a share (T line) or found it taken over (L line).</summary>
public sealed record ShareChange(Tenure Tenure, long Ticks);

/// <summary>What the group children journaled (see tests/Reliability.Child/GroupMode.cs for the line format).</summary>
public sealed class GroupJournal
{
    public List<Handling> Handled { get; } = [];
    public List<StoredCheckpoint> Checkpoints { get; } = [];
    public List<ShareChange> Taken { get; } = [];
    public List<ShareChange> Lost { get; } = [];

    /// <summary>Reads each instance's journal; a line a SIGKILL cut short (no newline) was never fully written and is ignored.</summary>
    public static GroupJournal Read(IEnumerable<(string Instance, string Path)> journals)
    {
        var result = new GroupJournal();
        foreach (var (instance, path) in journals)
        {
            if (!File.Exists(path)) continue;
            string text;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            using (var reader = new StreamReader(stream))
                text = reader.ReadToEnd();
            var lastWork = 0L;
            foreach (var line in text[..(text.LastIndexOf('\n') + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.StartsWith("N ", StringComparison.Ordinal)) continue; // a log line for people, not audited
                var p = line.Split(' ', 5);
                var tenure = new Tenure(instance, Int(p[1]), Long(p[2]));
                switch (p[0])
                {
                    case "H":
                        var rest = p[4].Split(' ');
                        result.Handled.Add(new Handling(tenure, p[3], Long(rest[0]), Guid.ParseExact(rest[1], "N"), Long(rest[2])));
                        lastWork = Long(rest[2]);
                        break;
                    case "C":
                        result.Checkpoints.Add(new StoredCheckpoint(tenure, Long(p[3]), p.Length > 4 ? p[4] : "", lastWork));
                        lastWork = Long(p[3]);
                        break;
                    case "T": result.Taken.Add(new ShareChange(tenure, Long(p[3]))); break;
                    case "L": result.Lost.Add(new ShareChange(tenure, Long(p[3]))); break;
                    default: throw new InvalidDataException($"{path}: unknown journal line '{line}'");
                }
            }
        }
        return result;
    }

    /// <summary>The event ids the union of the instances handled.</summary>
    public HashSet<Guid> HandledIds() => [.. Handled.Select(h => h.Id)];

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);
    private static long Long(string s) => long.Parse(s, CultureInfo.InvariantCulture);
}
