using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wav2Vec2.Kernels;

/// <summary>Which instruction set the SIMD kernels use; <see cref="Auto"/> picks the widest the CPU runs natively.</summary>
internal enum KernelPath
{
    /// <summary>AVX-512 when supported, else AVX2 + FMA, else Vector128, else scalar.</summary>
    Auto,
    /// <summary>512-bit vectors (AVX-512 F/BW/DQ/VL); emulated, and slow, where the CPU lacks them.</summary>
    Avx512,
    /// <summary>256-bit vectors with fused multiply-add.</summary>
    Avx2,
    /// <summary>Portable 128-bit vectors (SSE, NEON).</summary>
    Vector128,
    /// <summary>The scalar reference twins.</summary>
    Scalar,
}

/// <summary>
/// The process-wide kernel path. Tests force each path in turn to compare it with the scalar twins; benchmarks force
/// AVX2 on an AVX-512 CPU to measure both. Results are deterministic for a fixed path and thread count.
/// </summary>
internal static class KernelPaths
{
    /// <summary>The requested path (default <see cref="KernelPath.Auto"/>).</summary>
    public static KernelPath Requested { get; set; } = KernelPath.Auto;

    /// <summary>True when the CPU runs the AVX-512 path natively (the F, BW, DQ and VL subsets).</summary>
    public static bool Avx512Supported =>
        Avx512F.IsSupported && Avx512F.VL.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported;

    /// <summary>True when the CPU runs the AVX2 path natively.</summary>
    public static bool Avx2Supported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>The path <see cref="Requested"/> resolves to on this CPU.</summary>
    public static KernelPath Effective => Requested != KernelPath.Auto ? Requested
        : Avx512Supported ? KernelPath.Avx512
        : Avx2Supported ? KernelPath.Avx2
        : Vector128.IsHardwareAccelerated ? KernelPath.Vector128
        : KernelPath.Scalar;

    /// <summary>Parses a path name (case-insensitive: auto, avx512, avx2, vector128, scalar).</summary>
    public static KernelPath Parse(string name) => Enum.TryParse(name, ignoreCase: true, out KernelPath path)
        ? path
        : throw new ArgumentException($"unknown kernel path '{name}' (auto, avx512, avx2, vector128, scalar)");
}
