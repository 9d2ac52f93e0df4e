using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Wav2Vec2.Kernels;

/// <summary>
/// bfloat16 as storage: the upper 16 bits of a float (8 exponent bits, 7 mantissa bits). Narrowing rounds to nearest,
/// ties to even (NaN stays NaN); widening is exact.
/// </summary>
internal static class BFloat16
{
    /// <summary>The bfloat16 nearest to <paramref name="value"/>.</summary>
    public static ushort Narrow(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x40);   // a quiet NaN whatever the payload
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>to[i] = the float of from[i].</summary>
    public static void Widen(ReadOnlySpan<ushort> from, Span<float> to)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Span<uint> bits = MemoryMarshal.Cast<float, uint>(to);
            for (; i + 16 <= from.Length; i += 16)
            {
                var (low, high) = Vector256.Widen(Vector256.Create(from.Slice(i, 16)));
                (low << 16).CopyTo(bits.Slice(i, 8));
                (high << 16).CopyTo(bits.Slice(i + 8, 8));
            }
        }
        for (; i < from.Length; i++)
            to[i] = BitConverter.UInt32BitsToSingle((uint)from[i] << 16);
    }
}
