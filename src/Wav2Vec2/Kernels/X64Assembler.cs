namespace Wav2Vec2.Kernels;

/// <summary>x86-64 general-purpose registers by their encoding number.</summary>
internal enum Gpr
{
    Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15,
}

/// <summary>
/// The few x86-64 instructions <see cref="Avx512VnniKernel"/> is made of, encoded into bytes: .NET 10 exposes no
/// 512-bit VNNI intrinsic, so that kernel is generated at run time. Every memory operand is [base + index + disp32]
/// (or [base + disp32]); vector registers are zmm0-31 by number. The encodings follow the Intel SDM (EVEX for the
/// AVX-512 forms, REX.W for the 64-bit integer ones); tests pin them against an assembler's output.
/// </summary>
internal sealed class X64Assembler
{
    private readonly List<byte> _code = [];

    /// <summary>The bytes emitted so far.</summary>
    public byte[] ToArray() => [.. _code];

    /// <summary>Current offset, a jump target.</summary>
    public int Position => _code.Count;

    public void Push(Gpr r)
    {
        if (r >= Gpr.R8)
            _code.Add(0x41);
        _code.Add((byte)(0x50 + ((int)r & 7)));
    }

    public void Pop(Gpr r)
    {
        if (r >= Gpr.R8)
            _code.Add(0x41);
        _code.Add((byte)(0x58 + ((int)r & 7)));
    }

    /// <summary>mov dst, src (64-bit registers).</summary>
    public void Mov(Gpr dst, Gpr src)
    {
        Rex(reg: (int)src, rm: (int)dst);
        _code.Add(0x89);
        _code.Add(ModRmRegister((int)src, (int)dst));
    }

    /// <summary>mov dst, qword [base + disp].</summary>
    public void Load(Gpr dst, Gpr @base, int disp)
    {
        Rex(reg: (int)dst, rm: (int)@base);
        _code.Add(0x8B);
        Memory((int)dst, @base, null, disp);
    }

    /// <summary>cmp r, qword [base + disp].</summary>
    public void Compare(Gpr r, Gpr @base, int disp)
    {
        Rex(reg: (int)r, rm: (int)@base);
        _code.Add(0x3B);
        Memory((int)r, @base, null, disp);
    }

    /// <summary>add r, imm32.</summary>
    public void Add(Gpr r, int immediate)
    {
        Rex(reg: 0, rm: (int)r);
        _code.Add(0x81);
        _code.Add(ModRmRegister(0, (int)r));
        Int32(immediate);
    }

    /// <summary>xor r, r (r = 0).</summary>
    public void Zero(Gpr r)
    {
        Rex(reg: (int)r, rm: (int)r);
        _code.Add(0x31);
        _code.Add(ModRmRegister((int)r, (int)r));
    }

    /// <summary>jmp to <paramref name="target"/>; returns where the 32-bit displacement is, for <see cref="Patch"/>.</summary>
    public int Jump(int target = 0)
    {
        _code.Add(0xE9);
        return Displacement(target);
    }

    /// <summary>jb (unsigned less, after <see cref="Compare"/>) to <paramref name="target"/>.</summary>
    public void JumpIfBelow(int target)
    {
        _code.Add(0x0F);
        _code.Add(0x82);
        Displacement(target);
    }

    /// <summary>Points the jump whose displacement is at <paramref name="at"/> to the current position.</summary>
    public void Patch(int at)
    {
        int displacement = Position - (at + 4);
        for (int i = 0; i < 4; i++)
            _code[at + i] = (byte)(displacement >> (8 * i));
    }

    public void VZeroUpper() => _code.AddRange([0xC5, 0xF8, 0x77]);

    public void Return() => _code.Add(0xC3);

    /// <summary>vmovdqu32 zmm, [base + disp].</summary>
    public void LoadVector(int zmm, Gpr @base, int disp) => Evex(Prefix.F3, Map.Of0F, 0x6F, zmm, vvvv: 0, @base, null, disp);

    /// <summary>vmovdqu32 [base + disp], zmm.</summary>
    public void StoreVector(int zmm, Gpr @base, int disp) => Evex(Prefix.F3, Map.Of0F, 0x7F, zmm, vvvv: 0, @base, null, disp);

    /// <summary>vpbroadcastd zmm, dword [base + index + disp]: the 4 bytes in every int32 lane.</summary>
    public void BroadcastInt32(int zmm, Gpr @base, Gpr index, int disp) =>
        Evex(Prefix.P66, Map.Of0F38, 0x58, zmm, vvvv: 0, @base, index, disp);

    /// <summary>
    /// vpdpbusd acc, unsigned, signed: each int32 lane of acc += the sum of its four u8 x s8 products.
    /// </summary>
    public void DotProductAccumulate(int acc, int unsigned, int signed)
    {
        EvexPrefix(Prefix.P66, Map.Of0F38, acc, unsigned, rmLow: signed, rmHigh: signed >> 4);
        _code.Add(0x50);
        _code.Add(ModRmRegister(acc, signed));
    }

    private enum Prefix { P66 = 1, F3 = 2 }

    private enum Map { Of0F = 1, Of0F38 = 2 }

    // EVEX.512.W0 op with a memory operand (vvvv unused when 0 is passed: it encodes as 1111).
    private void Evex(Prefix pp, Map map, byte opcode, int reg, int vvvv, Gpr @base, Gpr? index, int disp)
    {
        EvexPrefix(pp, map, reg, vvvv, rmLow: (int)@base, rmHigh: index is Gpr i ? (int)i >> 3 : 0);
        _code.Add(opcode);
        Memory(reg, @base, index, disp);
    }

    // 62, P0 (inverted R, X, B, R' and the opcode map), P1 (W0, inverted vvvv, pp), P2 (512 bits, inverted V', no mask).
    // For a register rm, X extends it to zmm16-31 (rmHigh = bit 4); for memory, X extends the index (rmHigh = bit 3).
    private void EvexPrefix(Prefix pp, Map map, int reg, int vvvv, int rmLow, int rmHigh)
    {
        int r = (reg >> 3) & 1, rPrime = (reg >> 4) & 1, b = (rmLow >> 3) & 1, x = rmHigh & 1;
        _code.Add(0x62);
        _code.Add((byte)(((r ^ 1) << 7) | ((x ^ 1) << 6) | ((b ^ 1) << 5) | ((rPrime ^ 1) << 4) | (int)map));
        _code.Add((byte)(((~vvvv & 15) << 3) | 0x04 | (int)pp));
        _code.Add((byte)(0x40 | ((((vvvv >> 4) & 1) ^ 1) << 3)));
    }

    // REX.W with the reg and rm (or base) extensions.
    private void Rex(int reg, int rm) => _code.Add((byte)(0x48 | (((reg >> 3) & 1) << 2) | ((rm >> 3) & 1)));

    private static byte ModRmRegister(int reg, int rm) => (byte)(0xC0 | ((reg & 7) << 3) | (rm & 7));

    // ModRM with a 32-bit displacement, and a SIB byte when there is an index or the base is rsp/r12.
    private void Memory(int reg, Gpr @base, Gpr? index, int disp)
    {
        if (index == Gpr.Rsp)
            throw new ArgumentException("rsp cannot be an index register", nameof(index));
        bool sib = index != null || ((int)@base & 7) == 4;
        _code.Add((byte)(0x80 | ((reg & 7) << 3) | (sib ? 4 : (int)@base & 7)));
        if (sib)
            _code.Add((byte)((((index is Gpr i ? (int)i : 4) & 7) << 3) | ((int)@base & 7)));
        Int32(disp);
    }

    private int Displacement(int target)
    {
        int at = Position;
        Int32(target - (at + 4));
        return at;
    }

    private void Int32(int value)
    {
        for (int i = 0; i < 4; i++)
            _code.Add((byte)(value >> (8 * i)));
    }
}
