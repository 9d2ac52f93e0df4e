using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wav2Vec2.Kernels;

/// <summary>
/// A float vector of one width, so that a kernel is written once, generic over the width, and compiled by the JIT for
/// 512, 256 and 128-bit vectors (<see cref="Simd512"/>, <see cref="Simd256"/>, <see cref="Simd128"/>). The wrappers
/// are single-field structs the JIT keeps in registers: the generic code costs nothing over hand-written intrinsics.
/// </summary>
internal unsafe interface ISimd<TSelf> where TSelf : struct, ISimd<TSelf>
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }
    static abstract TSelf Load(float* source);
    static abstract void Store(TSelf value, float* destination);
    /// <summary>Stores each lane, a whole number in [0, 255], as one byte.</summary>
    static abstract void StoreBytes(TSelf value, byte* destination);
    static abstract TSelf Create(float value);
    static abstract TSelf operator +(TSelf left, TSelf right);
    static abstract TSelf operator -(TSelf left, TSelf right);
    static abstract TSelf operator -(TSelf value);
    static abstract TSelf operator *(TSelf left, TSelf right);
    static abstract TSelf operator /(TSelf left, TSelf right);

    /// <summary>a * b + c, fused on the 256 and 512-bit paths (FMA hardware), plain on the portable 128-bit one.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);
    static abstract TSelf Abs(TSelf value);
    static abstract TSelf Sqrt(TSelf value);
    static abstract TSelf Max(TSelf left, TSelf right);
    static abstract TSelf Min(TSelf left, TSelf right);

    /// <summary>Each lane rounded to the nearest integer (ties to even).</summary>
    static abstract TSelf Round(TSelf value);

    /// <summary>value * 2^n for lanes of n holding integers in [-126, 127] (built from the exponent bits).</summary>
    static abstract TSelf ScaleByPowerOfTwo(TSelf value, TSelf n);

    /// <summary>
    /// e^x within about one ulp for x in [-87.3, 88.3] (Cephes' expf: x = n ln 2 + r, a degree-6 polynomial in r,
    /// 2^n from the exponent bits); 0 below -87.3 (so -inf gives 0, as a masked score needs), x clamped to 88.3 above.
    /// The runtime's Vector512.Exp goes through double and costs three times as much (1.9 against 0.6 ns a value
    /// here), which showed in softmax and GELU.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static virtual TSelf Exp(TSelf x)
    {
        TSelf clamped = TSelf.Min(TSelf.Max(x, TSelf.Create(-87.3f)), TSelf.Create(88.3f));
        TSelf n = TSelf.Round(clamped * TSelf.Create(1.44269504f));
        // r = x - n ln 2, with ln 2 split in two so that r keeps its low bits.
        TSelf r = TSelf.MultiplyAdd(n, TSelf.Create(-0.693359375f), clamped);
        r = TSelf.MultiplyAdd(n, TSelf.Create(2.12194440e-4f), r);
        TSelf p = TSelf.Create(1.9875691500e-4f);
        p = TSelf.MultiplyAdd(p, r, TSelf.Create(1.3981999507e-3f));
        p = TSelf.MultiplyAdd(p, r, TSelf.Create(8.3334519073e-3f));
        p = TSelf.MultiplyAdd(p, r, TSelf.Create(4.1665795894e-2f));
        p = TSelf.MultiplyAdd(p, r, TSelf.Create(1.6666665459e-1f));
        p = TSelf.MultiplyAdd(p, r, TSelf.Create(5.0000001201e-1f));
        p = TSelf.MultiplyAdd(p, r * r, r + TSelf.Create(1f));
        return TSelf.WhereNegative(x + TSelf.Create(87.3f), TSelf.Create(0f), TSelf.ScaleByPowerOfTwo(p, n));
    }

    /// <summary>
    /// exp(x) for x &lt;= 0 to about 4e-5 relative, at half the instructions of <see cref="Exp"/>: 2^t as 2^round(t)
    /// times a quartic in the rest. For the quantised softmax, whose exponentials are rounded to steps of 1/127 or
    /// 1/255 after. At most 2^-126 below -87 (about 1e-38; -infinity included); NaN stays NaN.
    /// </summary>
    static virtual TSelf ExpNonPositive(TSelf x)
    {
        TSelf t = TSelf.Max(x * TSelf.Create(1.44269504f), TSelf.Create(-126f));
        TSelf n = TSelf.Round(t);
        TSelf f = t - n;
        TSelf p = TSelf.MultiplyAdd(TSelf.Create(9.6181291e-3f), f, TSelf.Create(5.5504109e-2f));
        p = TSelf.MultiplyAdd(p, f, TSelf.Create(0.24022651f));
        p = TSelf.MultiplyAdd(p, f, TSelf.Create(0.69314718f));
        p = TSelf.MultiplyAdd(p, f, TSelf.Create(1f));
        return TSelf.ScaleByPowerOfTwo(p, n);
    }

    /// <summary>Lanes of <paramref name="ifNegative"/> where <paramref name="sign"/> is below zero, else of <paramref name="otherwise"/>.</summary>
    static abstract TSelf WhereNegative(TSelf sign, TSelf ifNegative, TSelf otherwise);
    static abstract float Sum(TSelf value);
    static abstract float MaxAcross(TSelf value);

    /// <summary>CounterRandom.Uniform(seed, first + i) in lane i (bit-identical to the scalar generator).</summary>
    static abstract TSelf CounterUniform(ulong seed, ulong first);
}

/// <summary>A kernel body generic over the vector width, with its scalar twin; <see cref="Simd.Run"/> picks the path.</summary>
internal interface IVectorKernel
{
    void Run<TVec>() where TVec : struct, ISimd<TVec>;
    void RunScalar();
}

/// <summary>Dispatch of <see cref="IVectorKernel"/>s on <see cref="KernelPaths.Effective"/>.</summary>
internal static class Simd
{
    public static void Run<TKernel>(ref TKernel kernel) where TKernel : IVectorKernel, allows ref struct
    {
        switch (KernelPaths.Effective)
        {
            case KernelPath.Avx512: kernel.Run<Simd512>(); break;
            case KernelPath.Avx2: kernel.Run<Simd256>(); break;
            case KernelPath.Vector128: kernel.Run<Simd128>(); break;
            default: kernel.RunScalar(); break;
        }
    }
}

internal readonly unsafe struct Simd512(Vector512<float> v) : ISimd<Simd512>
{
    private readonly Vector512<float> _v = v;
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Load(float* source) => new(Vector512.Load(source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Simd512 value, float* destination) => value._v.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBytes(Simd512 value, byte* destination) => Avx512F.ConvertToVector128Byte(Vector512.ConvertToInt32(value._v)).Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Create(float value) => new(Vector512.Create(value));
    public static Simd512 operator +(Simd512 left, Simd512 right) => new(left._v + right._v);
    public static Simd512 operator -(Simd512 left, Simd512 right) => new(left._v - right._v);
    public static Simd512 operator -(Simd512 value) => new(-value._v);
    public static Simd512 operator *(Simd512 left, Simd512 right) => new(left._v * right._v);
    public static Simd512 operator /(Simd512 left, Simd512 right) => new(left._v / right._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 MultiplyAdd(Simd512 a, Simd512 b, Simd512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Abs(Simd512 value) => new(Vector512.Abs(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Sqrt(Simd512 value) => new(Vector512.Sqrt(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Max(Simd512 left, Simd512 right) => new(Vector512.Max(left._v, right._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Min(Simd512 left, Simd512 right) => new(Vector512.Min(left._v, right._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Round(Simd512 value) => new(Vector512.Round(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 ScaleByPowerOfTwo(Simd512 value, Simd512 n) =>
        new(value._v * ((Vector512.ConvertToInt32(n._v) + Vector512.Create(127)) << 23).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 WhereNegative(Simd512 sign, Simd512 ifNegative, Simd512 otherwise) =>
        new(Vector512.ConditionalSelect(Vector512.LessThan(sign._v, Vector512<float>.Zero), ifNegative._v, otherwise._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Simd512 value) => Vector512.Sum(value._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Simd512 value) =>
        Simd256.MaxAcross(new Simd256(Vector256.Max(value._v.GetLower(), value._v.GetUpper())));
    public static Simd512 CounterUniform(ulong seed, ulong first) => new(CounterRandom.Uniform512(seed, first));
}

internal readonly unsafe struct Simd256(Vector256<float> v) : ISimd<Simd256>
{
    private readonly Vector256<float> _v = v;
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Load(float* source) => new(Vector256.Load(source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Simd256 value, float* destination) => value._v.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBytes(Simd256 value, byte* destination)
    {
        Vector256<int> whole = Vector256.ConvertToInt32(value._v);
        Vector128<short> words = Vector128.Narrow(whole.GetLower(), whole.GetUpper());
        *(ulong*)destination = Vector128.Narrow(words, words).AsUInt64().ToScalar();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Create(float value) => new(Vector256.Create(value));
    public static Simd256 operator +(Simd256 left, Simd256 right) => new(left._v + right._v);
    public static Simd256 operator -(Simd256 left, Simd256 right) => new(left._v - right._v);
    public static Simd256 operator -(Simd256 value) => new(-value._v);
    public static Simd256 operator *(Simd256 left, Simd256 right) => new(left._v * right._v);
    public static Simd256 operator /(Simd256 left, Simd256 right) => new(left._v / right._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 MultiplyAdd(Simd256 a, Simd256 b, Simd256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Abs(Simd256 value) => new(Vector256.Abs(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Sqrt(Simd256 value) => new(Vector256.Sqrt(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Max(Simd256 left, Simd256 right) => new(Vector256.Max(left._v, right._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Min(Simd256 left, Simd256 right) => new(Vector256.Min(left._v, right._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Round(Simd256 value) => new(Vector256.Round(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 ScaleByPowerOfTwo(Simd256 value, Simd256 n) =>
        new(value._v * ((Vector256.ConvertToInt32(n._v) + Vector256.Create(127)) << 23).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 WhereNegative(Simd256 sign, Simd256 ifNegative, Simd256 otherwise) =>
        new(Vector256.ConditionalSelect(Vector256.LessThan(sign._v, Vector256<float>.Zero), ifNegative._v, otherwise._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Simd256 value) => Vector256.Sum(value._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Simd256 value) =>
        Simd128.MaxAcross(new Simd128(Vector128.Max(value._v.GetLower(), value._v.GetUpper())));
    public static Simd256 CounterUniform(ulong seed, ulong first) => new(CounterRandom.Uniform256(seed, first));
}

internal readonly unsafe struct Simd128(Vector128<float> v) : ISimd<Simd128>
{
    private readonly Vector128<float> _v = v;
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Load(float* source) => new(Vector128.Load(source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Simd128 value, float* destination) => value._v.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBytes(Simd128 value, byte* destination)
    {
        Vector128<int> whole = Vector128.ConvertToInt32(value._v);
        Vector128<short> words = Vector128.Narrow(whole, whole);
        *(uint*)destination = Vector128.Narrow(words, words).AsUInt32().ToScalar();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Create(float value) => new(Vector128.Create(value));
    public static Simd128 operator +(Simd128 left, Simd128 right) => new(left._v + right._v);
    public static Simd128 operator -(Simd128 left, Simd128 right) => new(left._v - right._v);
    public static Simd128 operator -(Simd128 value) => new(-value._v);
    public static Simd128 operator *(Simd128 left, Simd128 right) => new(left._v * right._v);
    public static Simd128 operator /(Simd128 left, Simd128 right) => new(left._v / right._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 MultiplyAdd(Simd128 a, Simd128 b, Simd128 c) => new(a._v * b._v + c._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Abs(Simd128 value) => new(Vector128.Abs(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Sqrt(Simd128 value) => new(Vector128.Sqrt(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Max(Simd128 left, Simd128 right) => new(Vector128.Max(left._v, right._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Min(Simd128 left, Simd128 right) => new(Vector128.Min(left._v, right._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Round(Simd128 value) => new(Vector128.Round(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 ScaleByPowerOfTwo(Simd128 value, Simd128 n) =>
        new(value._v * ((Vector128.ConvertToInt32(n._v) + Vector128.Create(127)) << 23).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 WhereNegative(Simd128 sign, Simd128 ifNegative, Simd128 otherwise) =>
        new(Vector128.ConditionalSelect(Vector128.LessThan(sign._v, Vector128<float>.Zero), ifNegative._v, otherwise._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Simd128 value) => Vector128.Sum(value._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Simd128 value)
    {
        float a = MathF.Max(value._v.GetElement(0), value._v.GetElement(1));
        float b = MathF.Max(value._v.GetElement(2), value._v.GetElement(3));
        return MathF.Max(a, b);
    }

    public static Simd128 CounterUniform(ulong seed, ulong first) => new(CounterRandom.Uniform128(seed, first));
}
