using EventStore.Providers.Projections;

namespace EventStore.Providers.Abstractions.Tests;

public class PositionOrderTests
{
    [Fact]
    public void On_a_per_partition_store_the_lowest_of_two_vectors_is_taken_entry_by_entry()
    {
        var lowest = PositionOrder.Lowest(GlobalOrdering.PerPartition, Position.FromParts(5, 1, 9), Position.FromParts(3, 4, 9));

        Assert.Equal(Position.FromParts(3, 1, 9), lowest);
        Assert.True(PositionOrder.Reached(GlobalOrdering.PerPartition, Position.FromParts(5, 1, 9), lowest));
        Assert.True(PositionOrder.Reached(GlobalOrdering.PerPartition, Position.FromParts(3, 4, 9), lowest));
    }

    [Fact]
    public void On_a_per_partition_store_a_vector_is_reached_only_when_every_entry_is()
    {
        Assert.False(PositionOrder.Reached(GlobalOrdering.PerPartition, Position.FromParts(9, 0), Position.FromParts(1, 1)));
        Assert.True(PositionOrder.Reached(GlobalOrdering.Total, Position.FromParts(9, 0), Position.FromParts(1, 1)));
    }

    [Fact]
    public void On_a_totally_ordered_store_the_lowest_is_the_earlier_position()
    {
        Assert.Equal(Position.FromInt64(3), PositionOrder.Lowest(GlobalOrdering.Total, Position.FromInt64(7), Position.FromInt64(3)));
    }
}
