using CsCheck;

namespace EventStore.Providers.Reliability.Tests.HostileInput;

/// <summary>Generators of text that breaks naive query building, regexes, encodings and length assumptions.</summary>
public static class HostileCorpus
{
    /// <summary>Fragments known to hurt: SQL, regex, JSON, shell, format strings, encodings, control characters.</summary>
    public static readonly string[] Fragments =
    [
        "'", "\"", "`", "''", "\\", "\\'", "'; DROP TABLE events;--", "\"; DROP TABLE streams; --", "' OR '1'='1",
        "%", "_", "%_%", "*", ".*", "^", "$", "$all", "(?:", "[a-z]+", "(a+)+$", "|", "?", "{0}", "{{}}", "${x}",
        "\0", "\u0001", "\n", "\r\n", "\t", "\u007f", "\u0085", "\u2028", "\u202E", "\uFEFF", "\u00A0",
        "Ωμέγα", "日本語", "ملف", "Ñandú", "e\u0301", "😀", "👩‍👩‍👧", "\U0001F600\U0001F601",
        "<script>", "-->", "/*", "*/", "--", ";", ":", "/", "..", "../..", "NULL", "null", "undefined", "#", "&", "=",
    ];

    private static readonly Gen<string> Fragment = Gen.Int[0, Fragments.Length - 1].Select(i => Fragments[i]);

    /// <summary>Concatenations of fragments and random characters, sometimes repeated up to a long length.</summary>
    public static readonly Gen<string> Text =
        Gen.Frequency(
                (6, Fragment.Array[1, 5].Select(a => string.Concat(a))),
                (2, Gen.String[Gen.Char, 1, 40]),
                (1, Gen.Select(Fragment, Gen.Int[50, 900]).Select(t => string.Concat(Enumerable.Repeat(t.Item1, t.Item2)))),
                (1, Gen.Select(Fragment.Array[1, 3], Gen.String[Gen.Char.AlphaNumeric, 1, 10]).Select(t => string.Concat(t.Item1) + t.Item2)))
            .Where(s => s.Length > 0);
}
