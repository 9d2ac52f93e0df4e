using Wav2Vec2.Kernels;

namespace Wav2Vec2.Tests.Kernels;

/// <summary>
/// The run-time assembler behind the AVX-512 VNNI kernel: each instruction form it emits, with registers that exercise
/// every EVEX/REX extension bit (zmm16-31, r8-r15, an r12 base needing a SIB byte), against GNU as's encoding of the
/// same instruction (with {disp32}, the displacement size the assembler always uses).
/// </summary>
[TestClass]
public sealed class X64AssemblerTests
{
    [TestMethod]
    public void VectorInstructionsEncodeAsGnuAsDoes()
    {
        Expect("62 b2 7d 48 58 94 3b 00 00 00 00", a => a.BroadcastInt32(2, Gpr.Rbx, Gpr.R15, 0));
        Expect("62 02 7d 48 58 bc 3d 04 00 00 00", a => a.BroadcastInt32(31, Gpr.R13, Gpr.R15, 4));
        Expect("62 02 7d 48 58 a4 3c 04 00 00 00", a => a.BroadcastInt32(28, Gpr.R12, Gpr.R15, 4));
        Expect("62 d1 7e 48 6f 86 40 00 00 00", a => a.LoadVector(0, Gpr.R14, 0x40));
        Expect("62 c1 7e 48 6f a4 24 00 00 00 00", a => a.LoadVector(20, Gpr.R12, 0));
        Expect("62 41 7e 48 7f 9f c0 02 00 00", a => a.StoreVector(27, Gpr.R15, 0x2c0));
        Expect("62 e2 6d 48 50 c0", a => a.DotProductAccumulate(16, 2, 0));
        Expect("62 62 05 40 50 d9", a => a.DotProductAccumulate(27, 31, 1));
        Expect("c5 f8 77", a => a.VZeroUpper());
    }

    [TestMethod]
    public void IntegerInstructionsEncodeAsGnuAsDoes()
    {
        Expect("4c 8b a8 58 00 00 00", a => a.Load(Gpr.R13, Gpr.Rax, 0x58));
        Expect("48 8b 98 00 00 00 00", a => a.Load(Gpr.Rbx, Gpr.Rax, 0));
        Expect("4c 3b b8 68 00 00 00", a => a.Compare(Gpr.R15, Gpr.Rax, 0x68));
        Expect("49 81 c6 80 00 00 00", a => a.Add(Gpr.R14, 128));
        Expect("4d 31 ff", a => a.Zero(Gpr.R15));
        Expect("41 54 53 41 5f", a => { a.Push(Gpr.R12); a.Push(Gpr.Rbx); a.Pop(Gpr.R15); });
        Expect("48 89 f8 48 89 c8 c3", a => { a.Mov(Gpr.Rax, Gpr.Rdi); a.Mov(Gpr.Rax, Gpr.Rcx); a.Return(); });
    }

    [TestMethod]
    public void JumpsLandOnTheirTargets()
    {
        var a = new X64Assembler();
        int forward = a.Jump();           // e9 + 4 bytes, patched to skip the xor
        a.Zero(Gpr.Rax);                  // 3 bytes
        a.Patch(forward);
        a.JumpIfBelow(0);                 // back to offset 0 from offset 8 + 6
        CollectionAssert.AreEqual(Bytes("e9 03 00 00 00 48 31 c0 0f 82 f2 ff ff ff"), a.ToArray());
    }

    [TestMethod]
    public void TheKernelDiffersBetweenTheAbisOnlyInWhereItTakesItsArgument()
    {
        byte[] systemV = Avx512VnniKernel.Assemble(windows: false), windows = Avx512VnniKernel.Assemble(windows: true);
        Assert.AreEqual(systemV.Length, windows.Length);
        int[] differing = [.. Enumerable.Range(0, systemV.Length).Where(i => systemV[i] != windows[i])];
        Assert.AreEqual(1, differing.Length, "only the ModRM byte of mov rax, rdi / rcx");
        Assert.AreEqual(0xF8, systemV[differing[0]]);
        Assert.AreEqual(0xC8, windows[differing[0]]);
    }

    private static void Expect(string hex, Action<X64Assembler> emit)
    {
        var assembler = new X64Assembler();
        emit(assembler);
        CollectionAssert.AreEqual(Bytes(hex), assembler.ToArray(), hex);
    }

    private static byte[] Bytes(string hex) => [.. hex.Split(' ').Select(h => Convert.ToByte(h, 16))];
}
