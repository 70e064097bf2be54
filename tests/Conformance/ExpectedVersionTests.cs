using Xunit;

namespace EventStore.Providers.Conformance;

/// <summary>docs/conformance.md items 2, 3 and 4: optimistic concurrency through the expected version.</summary>
public abstract class ExpectedVersionTests(IEventStoreFixture fixture) : ConformanceTestBase(fixture)
{
    [Fact]
    [Promise(2)]
    public async Task Appending_with_NoStream_to_an_existing_stream_fails_naming_stream_expected_and_actual()
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);

        var error = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.NoStream, TestEvents.Create()));

        Assert.Equal(stream, error.Stream);
        Assert.Equal(ExpectedVersion.NoStream, error.Expected);
        Assert.Equal(1, error.ActualVersion);
        Assert.Contains(stream.Value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Promise(3)]
    public async Task Appending_with_the_exact_current_version_succeeds()
    {
        var stream = NewStream();
        await SeedAsync(stream, 3);

        var result = await AppendAsync(stream, ExpectedVersion.Exact(2), TestEvents.Create());

        Assert.Equal(3, result.LastVersion);
    }

    [Theory]
    [Promise(3)]
    [InlineData(1L)]
    [InlineData(7L)]
    public async Task Appending_with_a_lower_or_higher_exact_version_fails_and_writes_nothing(long wrongVersion)
    {
        var stream = NewStream();
        await SeedAsync(stream, 3);

        var error = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.Exact(wrongVersion), TestEvents.Create()));

        Assert.Equal(ExpectedVersion.Exact(wrongVersion), error.Expected);
        Assert.Equal(2, error.ActualVersion);
        Assert.Equal(3, (await ReadStreamAsync(stream)).Count);
        Assert.Equal(3, (await ReadAllAsync()).Count);
    }

    [Fact]
    [Promise(3)]
    public async Task Appending_with_an_exact_version_to_a_missing_stream_fails_reporting_no_stream()
    {
        var stream = NewStream();

        var error = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.Exact(0), TestEvents.Create()));

        Assert.Equal(-1, error.ActualVersion);
        Assert.False((await Store.GetStreamInfoAsync(stream, Ct)).Exists);
    }

    [Fact]
    [Promise(4)]
    public async Task Appending_with_StreamExists_to_a_missing_stream_fails_and_does_not_create_it()
    {
        var stream = NewStream();

        var error = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.StreamExists, TestEvents.Create()));

        Assert.Equal(ExpectedVersion.StreamExists, error.Expected);
        Assert.Equal(-1, error.ActualVersion);
        Assert.False((await Store.GetStreamInfoAsync(stream, Ct)).Exists);
    }

    [Fact]
    [Promise(3)]
    public async Task A_failed_expected_version_check_leaves_the_stream_appendable_at_its_real_version()
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.Exact(0), TestEvents.Create()));

        var result = await AppendAsync(stream, ExpectedVersion.Exact(1), TestEvents.Create());

        Assert.Equal(2, result.LastVersion);
        Assert.Equal([0L, 1L, 2L], (await ReadStreamAsync(stream)).Select(e => e.Version));
    }

    [Fact]
    [Promise(3)]
    public async Task The_expected_version_of_one_stream_is_independent_of_other_streams()
    {
        var a = NewStream();
        var b = NewStream();
        await SeedAsync(a, 5);

        var result = await AppendAsync(b, ExpectedVersion.NoStream, TestEvents.Create());

        Assert.Equal(0, result.LastVersion);
        Assert.Equal(4, (await Store.GetStreamInfoAsync(a, Ct)).LastVersion);
    }

    /// <summary>Exact versions no stream can reach: arithmetic on them must not overflow inside the provider.</summary>
    public static TheoryData<long> UnreachableVersions => new() { long.MaxValue, long.MaxValue - 1, long.MaxValue - 65_535, int.MaxValue + 1L };

    [Theory]
    [MemberData(nameof(UnreachableVersions))]
    public async Task An_unreachable_exact_version_on_an_existing_stream_fails_with_wrong_expected_version(long version)
    {
        var stream = NewStream();
        await SeedAsync(stream, 2);

        var single = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.Exact(version), TestEvents.Create()));
        var batch = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.Exact(version), TestEvents.Batch(3)));

        Assert.Equal(ExpectedVersion.Exact(version), single.Expected);
        Assert.Equal(1, single.ActualVersion);
        Assert.Equal(1, batch.ActualVersion);
        Assert.Equal(2, (await ReadStreamAsync(stream)).Count);
    }

    [Theory]
    [MemberData(nameof(UnreachableVersions))]
    public async Task An_unreachable_exact_version_on_a_missing_stream_fails_reporting_no_stream(long version)
    {
        var stream = NewStream();

        var error = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => AppendAsync(stream, ExpectedVersion.Exact(version), TestEvents.Create()));

        Assert.Equal(-1, error.ActualVersion);
        Assert.False((await Store.GetStreamInfoAsync(stream, Ct)).Exists);
    }

    [Fact]
    public async Task A_resent_batch_with_an_unreachable_exact_version_is_a_conflict_not_an_overflow()
    {
        var stream = NewStream();
        var stored = await SeedAsync(stream, 2);

        var error = await Assert.ThrowsAnyAsync<EventStoreException>(() => Store.AppendAsync(stream, ExpectedVersion.Exact(long.MaxValue), stored, Ct));

        Assert.True(error is WrongExpectedVersionException or EventIdConflictException, $"Got {error.GetType().Name}: {error.Message}");
        Assert.Equal(2, (await ReadStreamAsync(stream)).Count);
    }

    [Fact]
    public async Task Deleting_with_an_unreachable_exact_version_fails_with_wrong_expected_version()
    {
        RequireCapability(Capabilities.SoftDelete, nameof(EventStoreCapabilities.SoftDelete));
        var stream = NewStream();
        await SeedAsync(stream, 2);

        var error = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => Store.DeleteStreamAsync(stream, ExpectedVersion.Exact(long.MaxValue), StreamDeletionMode.Soft, Ct));

        Assert.Equal(1, error.ActualVersion);
        Assert.True((await Store.GetStreamInfoAsync(stream, Ct)).Exists);
    }
}
