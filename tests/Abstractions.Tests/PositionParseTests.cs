using CsCheck;

namespace EventStore.Providers.Abstractions.Tests;

/// <summary>Issue 12 item 6: <see cref="Position.Parse(string)"/> accepts exactly the text <see cref="Position.ToString"/> makes.</summary>
public class PositionParseTests
{
    private static readonly Gen<Position> Positions = Gen.Frequency(
        (1, Gen.Const(Position.Start)),
        (3, Gen.Long[0, 1000].Select(Position.FromInt64)),
        (3, Gen.Long[0, long.MaxValue].Select(Position.FromInt64)),
        (3, Gen.Long[0, long.MaxValue].Array[1, 4].Select(parts => Position.FromParts(parts))));

    // Characters a mutation inserts or substitutes: digits, the separator, signs, white space, NUL, look-alike digits.
    private static readonly Gen<char> Noise = Gen.Char["019:+- \t\n\0.s٣０\uFEFFe"];

    [Theory]
    [InlineData("1\0")]
    [InlineData("\01")]
    [InlineData("+5")]
    [InlineData("-0")]
    [InlineData("-1")]
    [InlineData("00")]
    [InlineData("01")]
    [InlineData("1:01")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1\n")]
    [InlineData("1:")]
    [InlineData(":1")]
    [InlineData("1::2")]
    [InlineData("Start")]
    [InlineData(" start")]
    [InlineData("start:1")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999")]
    [InlineData("١٢")]
    [InlineData("１")]
    [InlineData("1_000")]
    [InlineData("1,000")]
    public void Text_that_ToString_never_makes_is_rejected(string text)
    {
        Assert.False(Position.TryParse(text, out _));
        var e = Assert.Throws<InvalidPositionException>(() => Position.Parse(text));
        Assert.Equal(text, e.Text);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("0")]
    [InlineData("9223372036854775807")]
    [InlineData("0:0")]
    [InlineData("10:20:30")]
    public void Canonical_text_parses_and_prints_back_the_same(string text)
    {
        Assert.Equal(text, Position.Parse(text).ToString());
    }

    [Fact]
    public void Negative_components_cannot_be_made_so_every_position_prints_parseable_text()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Position.FromParts(1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Position.FromInt64(-1));
    }

    [Fact]
    public void Parse_of_ToString_gives_the_same_position()
    {
        Positions.Sample(p => Assert.Equal(p, Position.Parse(p.ToString())), iter: 5000);
    }

    [Fact]
    public void A_mutated_position_text_is_rejected_or_is_itself_canonical()
    {
        var mutated = Gen.Select(Positions, Gen.Int[0, 2], Gen.Int[0, 1000], Noise).Select(t =>
        {
            var (p, kind, at, c) = t;
            var text = p.ToString();
            var i = at % (text.Length + 1);
            return kind switch
            {
                0 => text.Insert(i, c.ToString()),
                1 when i < text.Length => text.Remove(i, 1),
                _ when i < text.Length => text[..i] + c + text[(i + 1)..],
                _ => text + c,
            };
        });

        mutated.Sample(text =>
        {
            if (Position.TryParse(text, out var parsed)) Assert.Equal(text, parsed.ToString());
            else Assert.Throws<InvalidPositionException>(() => Position.Parse(text));
        }, iter: 20000);
    }
}
