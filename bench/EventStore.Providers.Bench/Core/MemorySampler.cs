using System.Diagnostics;

namespace EventStore.Providers.Bench.Core;

/// <summary>
/// Samples the process working set and the managed heap while something runs, because the OS peak (PeakWorkingSet64)
/// cannot be reset between providers that share this process.
/// </summary>
internal sealed class MemorySampler : IDisposable
{
    private readonly Timer _timer;
    private readonly long _heapBaseline;
    private readonly long _allocatedBaseline;
    private long _peakWorkingSet;
    private long _peakHeap;

    private MemorySampler(TimeSpan interval)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        _heapBaseline = GC.GetTotalMemory(false);
        _allocatedBaseline = GC.GetTotalAllocatedBytes(true);
        Sample();
        _timer = new Timer(_ => Sample(), null, interval, interval);
    }

    public static MemorySampler Start(TimeSpan? interval = null) => new(interval ?? TimeSpan.FromMilliseconds(50));

    public double PeakWorkingSetMb { get { Sample(); return Interlocked.Read(ref _peakWorkingSet) / 1048576.0; } }

    /// <summary>How far the managed heap rose above where it was at the start (a flat read keeps this small).</summary>
    public double HeapGrowthMb { get { Sample(); return Math.Max(0, Interlocked.Read(ref _peakHeap) - _heapBaseline) / 1048576.0; } }

    public double AllocatedMb => (GC.GetTotalAllocatedBytes(true) - _allocatedBaseline) / 1048576.0;

    private void Sample()
    {
        using var p = Process.GetCurrentProcess();
        Max(ref _peakWorkingSet, p.WorkingSet64);
        Max(ref _peakHeap, GC.GetTotalMemory(false));
    }

    private static void Max(ref long target, long value)
    {
        long seen;
        while (value > (seen = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    public void Dispose() => _timer.Dispose();
}
