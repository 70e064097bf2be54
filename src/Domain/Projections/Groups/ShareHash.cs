using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace EventStore.Providers.Projections;

/// <summary>
/// The share of a stream: XxHash32 of its name's UTF-8 bytes, modulo the share count. Stable across processes,
/// machines and .NET versions (unlike <see cref="string.GetHashCode()"/>), so every instance routes a stream to the
/// same share.
/// </summary>
internal static class ShareHash
{
    /// <summary>The share (0 to <paramref name="shares"/> - 1) of <paramref name="stream"/>.</summary>
    public static int Of(StreamName stream, int shares)
    {
        if (shares == 1) return 0;
        var name = stream.Value;
        var length = Encoding.UTF8.GetMaxByteCount(name.Length);
        byte[]? rented = null;
        var buffer = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(name, buffer);
            return (int)(XxHash32.HashToUInt32(buffer[..written]) % (uint)shares);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
