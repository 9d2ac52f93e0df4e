using System.Runtime.InteropServices;

namespace Wav2Vec2.Kernels;

/// <summary>
/// Machine code placed in memory the CPU may execute: mapped writable, filled, then made read-only and executable
/// (never both writable and executable). Linux (the C library's mmap/mprotect) and Windows
/// (VirtualAlloc/VirtualProtect) on x64; elsewhere, or when the system refuses, <see cref="TryCreate"/> gives null and
/// the caller keeps its managed kernel.
/// The mapping lives for the process (a kernel is made once).
/// </summary>
internal static unsafe class ExecutableMemory
{
    /// <summary>The address of <paramref name="code"/> made executable, or null when this system does not allow it.</summary>
    public static void* TryCreate(ReadOnlySpan<byte> code)
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return null;
        try
        {
            return OperatingSystem.IsLinux() ? Linux(code) : OperatingSystem.IsWindows() ? Windows(code) : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static void* Linux(ReadOnlySpan<byte> code)
    {
        const int Read = 1, Write = 2, Execute = 4, Private = 2, Anonymous = 0x20;
        // The process's own symbols include its C library's, whichever it is (glibc, musl).
        nint process = NativeLibrary.GetMainProgramHandle();
        var mmap = (delegate* unmanaged<void*, nuint, int, int, int, long, void*>)NativeLibrary.GetExport(process, "mmap");
        var mprotect = (delegate* unmanaged<void*, nuint, int, int>)NativeLibrary.GetExport(process, "mprotect");
        var munmap = (delegate* unmanaged<void*, nuint, int>)NativeLibrary.GetExport(process, "munmap");
        nuint size = (nuint)code.Length;
        void* memory = mmap(null, size, Read | Write, Private | Anonymous, -1, 0);
        if (memory == (void*)-1)
            return null;
        code.CopyTo(new Span<byte>(memory, code.Length));
        if (mprotect(memory, size, Read | Execute) == 0)
            return memory;
        munmap(memory, size);
        return null;
    }

    private static void* Windows(ReadOnlySpan<byte> code)
    {
        const uint CommitReserve = 0x3000, ReadWrite = 0x04, ExecuteRead = 0x20, Release = 0x8000;
        if (!NativeLibrary.TryLoad("kernel32.dll", out nint kernel32))
            return null;
        var virtualAlloc = (delegate* unmanaged<void*, nuint, uint, uint, void*>)NativeLibrary.GetExport(kernel32, "VirtualAlloc");
        var virtualProtect = (delegate* unmanaged<void*, nuint, uint, uint*, int>)NativeLibrary.GetExport(kernel32, "VirtualProtect");
        var virtualFree = (delegate* unmanaged<void*, nuint, uint, int>)NativeLibrary.GetExport(kernel32, "VirtualFree");
        nuint size = (nuint)code.Length;
        void* memory = virtualAlloc(null, size, CommitReserve, ReadWrite);
        if (memory == null)
            return null;
        code.CopyTo(new Span<byte>(memory, code.Length));
        uint previous;
        if (virtualProtect(memory, size, ExecuteRead, &previous) != 0)
            return memory;
        virtualFree(memory, 0, Release);
        return null;
    }
}
