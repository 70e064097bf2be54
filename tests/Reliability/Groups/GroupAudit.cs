namespace EventStore.Providers.Reliability.Tests.Groups;

/// <summary>An event the test process appended and the store acknowledged.</summary>
public sealed record AcknowledgedEvent(string Stream, long Version, Guid Id);

/// <summary>What the group audit counted.</summary>
/// <param name="CheckpointsLoggedLate">Checkpoints whose log line came after a greater token's (a save in flight when its process was paused).</param>
public sealed record GroupAuditResult(int Acknowledged, int Handlings, int Redeliveries, int Tenures, int Handovers, int Checkpoints, int HandledAfterTakeover, int CheckpointsLoggedLate);

/// <summary>
/// Checks what the instances of a subscription group handled against what was acknowledged: nothing missing or
/// invented; each stream in one share; within one hold of a share (a tenure: instance and fencing token) every stream's
/// versions consecutive and increasing; an event handled again only by a later tenure of its share, and only if the
/// earlier tenure handled it after its last stored checkpoint (the documented at-least-once bound); per share, no
/// checkpoint save begun after one with a greater fencing token was stored (a resumed instance that lost its lease
/// stores nothing; a save already sent when its process was paused may still land, and is told apart by its start).
/// </summary>
public static class GroupAudit
{
    /// <summary>Runs every check; throws at the first violation.</summary>
    public static GroupAuditResult Verify(IReadOnlyCollection<AcknowledgedEvent> acknowledged, GroupJournal journal)
    {
        var sent = acknowledged.ToDictionary(e => e.Id);
        foreach (var h in journal.Handled)
        {
            Assert.True(sent.TryGetValue(h.Id, out var e), $"{h.Tenure.Instance} handled event {h.Id}, which was never acknowledged");
            Assert.True(e.Stream == h.Stream && e.Version == h.Version,
                $"{h.Tenure.Instance} handled event {h.Id} as {h.Stream}@{h.Version}; it was acknowledged as {e.Stream}@{e.Version}");
            Assert.True(h.Tenure.Token >= 0, $"{h.Tenure.Instance} handled {h.Stream}@{h.Version} in share {h.Tenure.Share} before taking it");
        }
        var handled = journal.HandledIds();
        var missing = acknowledged.Where(e => !handled.Contains(e.Id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged events were handled by no instance, e.g. {missing.FirstOrDefault()}");

        foreach (var stream in journal.Handled.GroupBy(h => h.Stream))
        {
            var shares = stream.Select(h => h.Tenure.Share).Distinct().ToList();
            Assert.True(shares.Count == 1, $"{stream.Key} was handled in shares {string.Join(", ", shares)}; a stream belongs to one share");
        }

        // Within a tenure the handler sees each stream's events once, in version order, without gaps.
        foreach (var run in journal.Handled.GroupBy(h => (h.Tenure, h.Stream)))
        {
            var versions = run.Select(h => h.Version).ToList();
            for (var i = 1; i < versions.Count; i++)
                Assert.True(versions[i] == versions[i - 1] + 1,
                    $"{run.Key.Tenure} handled {run.Key.Stream} versions {versions[i - 1]} then {versions[i]}; within a hold of a share they must follow each other");
        }

        var lastCheckpoint = journal.Checkpoints.GroupBy(c => c.Tenure).ToDictionary(g => g.Key, g => g.Max(c => c.Ticks));
        var redeliveries = 0;
        foreach (var same in journal.Handled.GroupBy(h => h.Id).Where(g => g.Count() > 1))
        {
            // By fencing token, not by time: a stalled holder may still run its handler on a batch after its share was
            // taken over (fencing stops its checkpoint, not its handler); its handling then precedes the next holder's.
            var ordered = same.OrderBy(h => h.Tenure.Token).ThenBy(h => h.Ticks).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                var (earlier, later) = (ordered[i - 1], ordered[i]);
                Assert.True(later.Tenure != earlier.Tenure && later.Tenure.Token > earlier.Tenure.Token,
                    $"{later.Stream}@{later.Version} was handled twice by {later.Tenure}, after {earlier.Tenure}; only a later holder of the share may repeat an event");
                var checkpointed = lastCheckpoint.TryGetValue(earlier.Tenure, out var ticks) ? ticks : long.MinValue;
                Assert.True(earlier.Ticks > checkpointed,
                    $"{later.Stream}@{later.Version} was repeated by {later.Tenure} although {earlier.Tenure} handled it before its last stored checkpoint; duplicates are bounded by the previous holder's uncheckpointed events");
                redeliveries++;
            }
        }

        // A write is proved late only when a greater token's checkpoint was stored before the older save even began.
        foreach (var share in journal.Checkpoints.GroupBy(c => c.Tenure.Share))
            foreach (var c in share)
                if (share.FirstOrDefault(newer => newer.Tenure.Token > c.Tenure.Token && newer.Ticks < c.StartedAfterTicks) is { } before)
                    Assert.Fail($"{c.Tenure} stored a checkpoint of share {share.Key} ({c.Position}) after {before.Tenure} had stored one ({before.Position}) with a greater fencing token");
        var lateLogged = journal.Checkpoints.Count(c => journal.Checkpoints.Any(newer =>
            newer.Tenure.Share == c.Tenure.Share && newer.Tenure.Token > c.Tenure.Token && newer.Ticks < c.Ticks));

        // A handover: a take of a share whose previous take was by another instance.
        var handovers = journal.Taken.GroupBy(t => t.Tenure.Share)
            .Sum(g => g.OrderBy(t => t.Tenure.Token).Zip(g.OrderBy(t => t.Tenure.Token).Skip(1)).Count(p => p.First.Tenure.Instance != p.Second.Tenure.Instance));
        // Handlings by a holder after a greater token of its share was taken: a stalled instance working on after resuming.
        var takenAt = journal.Taken.GroupBy(t => t.Tenure.Share).ToDictionary(g => g.Key, g => g.ToList());
        var afterTakeover = journal.Handled.Count(h => takenAt.TryGetValue(h.Tenure.Share, out var takes)
            && takes.Any(t => t.Tenure.Token > h.Tenure.Token && t.Ticks < h.Ticks));
        return new GroupAuditResult(acknowledged.Count, journal.Handled.Count, redeliveries, journal.Handled.Select(h => h.Tenure).Distinct().Count(),
            handovers, journal.Checkpoints.Count, afterTakeover, lateLogged);
    }
}
