using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Wav2Vec2.Kernels;

/// <summary>
/// The int8 tile of <see cref="Int8Path.Avx512Vnni"/>: 12 rows x 16 columns, one zmm accumulator per row, and one
/// 512-bit vpdpbusd per row and 4 k steps (64 multiply-adds in one instruction, 1.5 times what the vpmaddubsw +
/// vpmaddwd path does per multiply-unit cycle on a Zen 4, with full 8-bit activations and weights). .NET 10 exposes no
/// AVX-512 VNNI intrinsic, so the loop is assembled at run time (<see cref="X64Assembler"/>) into executable memory
/// once per process. Its arithmetic is <see cref="Int8Gemm"/>'s scalar twin's, exactly.
/// </summary>
internal static unsafe class Avx512VnniKernel
{
    /// <summary>Rows of the tile.</summary>
    public const int Rows = 12;

    // The kernel's one argument points at this block: 12 row pointers of A, the panel, the k steps (a multiple of 8)
    // and the tile's int32 sums (12 x 16, added to).
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct Arguments
    {
        public fixed long RowStarts[Rows];
        public sbyte* Panel;
        public long Steps;
        public int* Tile;
    }

    /// <summary>True when the CPU has AVX-512 VNNI (and the AVX-512 the other paths use) and the kernel could be made.</summary>
    public static bool Supported => Kernel != null;

    /// <summary>
    /// tile (12 x 16 int32) += A's rows (u8, row r at a + min(r, rows - 1) * lda) x the panel's 16 columns (s8, in
    /// groups of 4 k steps), over <paramref name="steps"/> k steps (a multiple of 8).
    /// </summary>
    public static void Tile(byte* a, int lda, int rows, sbyte* panel, int steps, int* tile)
    {
        System.Diagnostics.Debug.Assert(steps % 8 == 0, "the kernel reads 8 k steps per pass");
        Arguments arguments;
        for (int r = 0; r < Rows; r++)
            arguments.RowStarts[r] = (long)Int8Gemm.Row(a, lda, r, rows);
        arguments.Panel = panel;
        arguments.Steps = steps;
        arguments.Tile = tile;
        Kernel(&arguments);
    }

    private static delegate* unmanaged[SuppressGCTransition]<Arguments*, void> Create()
    {
        if (!KernelPaths.Avx512Supported || (X86Base.CpuId(7, 0).Ecx & (1 << 11)) == 0)
            return null;
        return (delegate* unmanaged[SuppressGCTransition]<Arguments*, void>)ExecutableMemory.TryCreate(Assemble(OperatingSystem.IsWindows()));
    }

    // Register plan: rax the arguments, the 12 row pointers in the other integer registers but rsp, r14 the panel, r15
    // the byte offset k into the rows; zmm16-27 the accumulators, zmm0/zmm1 two groups of the panel, zmm2-5 and
    // zmm28-31 the broadcast activations. Neither ABI preserves these vector registers (Windows keeps xmm6-15), and the
    // integer registers either ABI preserves are pushed and popped.
    private static readonly Gpr[] RowRegisters =
        [Gpr.Rbx, Gpr.Rcx, Gpr.Rdx, Gpr.Rsi, Gpr.Rdi, Gpr.Rbp, Gpr.R8, Gpr.R9, Gpr.R10, Gpr.R11, Gpr.R12, Gpr.R13];
    private static readonly Gpr[] Saved = [Gpr.Rbx, Gpr.Rbp, Gpr.Rdi, Gpr.Rsi, Gpr.R12, Gpr.R13, Gpr.R14, Gpr.R15];
    private static readonly int[] Broadcasts = [2, 3, 4, 5, 28, 29, 30, 31];
    private const int FirstAccumulator = 16;
    private const Gpr Panel = Gpr.R14, Offset = Gpr.R15, Args = Gpr.Rax;

    // Made from the register plan above: static fields are initialised in the order they are written.
    private static readonly delegate* unmanaged[SuppressGCTransition]<Arguments*, void> Kernel = Create();

    /// <summary>The kernel's machine code (Windows x64 or System V calling convention).</summary>
    internal static byte[] Assemble(bool windows)
    {
        int panelAt = (int)Marshal.OffsetOf<Arguments>(nameof(Arguments.Panel));
        int stepsAt = (int)Marshal.OffsetOf<Arguments>(nameof(Arguments.Steps));
        int tileAt = (int)Marshal.OffsetOf<Arguments>(nameof(Arguments.Tile));
        var asm = new X64Assembler();
        foreach (Gpr r in Saved)
            asm.Push(r);
        asm.Mov(Args, windows ? Gpr.Rcx : Gpr.Rdi);
        for (int r = 0; r < Rows; r++)
            asm.Load(RowRegisters[r], Args, r * sizeof(long));
        asm.Load(Panel, Args, panelAt);
        asm.Load(Offset, Args, tileAt);
        for (int r = 0; r < Rows; r++)
            asm.LoadVector(FirstAccumulator + r, Offset, r * 64);
        asm.Zero(Offset);
        int toCheck = asm.Jump();

        // 8 k steps per pass: two 64-byte groups of the panel (4 steps x 16 columns each) against each row's next 8 bytes.
        int loop = asm.Position;
        asm.LoadVector(0, Panel, 0);
        asm.LoadVector(1, Panel, 64);
        for (int half = 0; half < 2; half++)
            for (int r = 0; r < Rows; r++)
            {
                int broadcast = Broadcasts[half * 4 + r % 4];
                asm.BroadcastInt32(broadcast, RowRegisters[r], Offset, half * 4);
                asm.DotProductAccumulate(FirstAccumulator + r, broadcast, half);
            }
        asm.Add(Panel, 128);
        asm.Add(Offset, 8);
        asm.Patch(toCheck);
        asm.Compare(Offset, Args, stepsAt);
        asm.JumpIfBelow(loop);

        asm.Load(Offset, Args, tileAt);
        for (int r = 0; r < Rows; r++)
            asm.StoreVector(FirstAccumulator + r, Offset, r * 64);
        asm.VZeroUpper();
        for (int i = Saved.Length - 1; i >= 0; i--)
            asm.Pop(Saved[i]);
        asm.Return();
        return asm.ToArray();
    }
}
