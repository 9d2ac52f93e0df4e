using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
    static abstract TSelf Create(float value);
    static abstract TSelf operator +(TSelf left, TSelf right);
    static abstract TSelf operator -(TSelf left, TSelf right);
    static abstract TSelf operator -(TSelf value);
    static abstract TSelf operator *(TSelf left, TSelf right);
    static abstract TSelf operator /(TSelf left, TSelf right);

    /// <summary>a * b + c, fused on the 256 and 512-bit paths (FMA hardware), plain on the portable 128-bit one.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);
    static abstract TSelf Exp(TSelf value);
    static abstract TSelf Abs(TSelf value);
    static abstract TSelf Sqrt(TSelf value);
    static abstract TSelf Max(TSelf left, TSelf right);

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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Create(float value) => new(Vector512.Create(value));
    public static Simd512 operator +(Simd512 left, Simd512 right) => new(left._v + right._v);
    public static Simd512 operator -(Simd512 left, Simd512 right) => new(left._v - right._v);
    public static Simd512 operator -(Simd512 value) => new(-value._v);
    public static Simd512 operator *(Simd512 left, Simd512 right) => new(left._v * right._v);
    public static Simd512 operator /(Simd512 left, Simd512 right) => new(left._v / right._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 MultiplyAdd(Simd512 a, Simd512 b, Simd512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Exp(Simd512 value) => new(Vector512.Exp(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Abs(Simd512 value) => new(Vector512.Abs(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Sqrt(Simd512 value) => new(Vector512.Sqrt(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512 Max(Simd512 left, Simd512 right) => new(Vector512.Max(left._v, right._v));
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Create(float value) => new(Vector256.Create(value));
    public static Simd256 operator +(Simd256 left, Simd256 right) => new(left._v + right._v);
    public static Simd256 operator -(Simd256 left, Simd256 right) => new(left._v - right._v);
    public static Simd256 operator -(Simd256 value) => new(-value._v);
    public static Simd256 operator *(Simd256 left, Simd256 right) => new(left._v * right._v);
    public static Simd256 operator /(Simd256 left, Simd256 right) => new(left._v / right._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 MultiplyAdd(Simd256 a, Simd256 b, Simd256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Exp(Simd256 value) => new(Vector256.Exp(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Abs(Simd256 value) => new(Vector256.Abs(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Sqrt(Simd256 value) => new(Vector256.Sqrt(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256 Max(Simd256 left, Simd256 right) => new(Vector256.Max(left._v, right._v));
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Create(float value) => new(Vector128.Create(value));
    public static Simd128 operator +(Simd128 left, Simd128 right) => new(left._v + right._v);
    public static Simd128 operator -(Simd128 left, Simd128 right) => new(left._v - right._v);
    public static Simd128 operator -(Simd128 value) => new(-value._v);
    public static Simd128 operator *(Simd128 left, Simd128 right) => new(left._v * right._v);
    public static Simd128 operator /(Simd128 left, Simd128 right) => new(left._v / right._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 MultiplyAdd(Simd128 a, Simd128 b, Simd128 c) => new(a._v * b._v + c._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Exp(Simd128 value) => new(Vector128.Exp(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Abs(Simd128 value) => new(Vector128.Abs(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Sqrt(Simd128 value) => new(Vector128.Sqrt(value._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128 Max(Simd128 left, Simd128 right) => new(Vector128.Max(left._v, right._v));
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
