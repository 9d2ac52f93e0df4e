using System.Runtime.InteropServices;
using Wav2Vec2.Kernels;

namespace Wav2Vec2.Tests.Kernels;

/// <summary>Machine code mapped by <see cref="ExecutableMemory"/> runs (on x64 Linux and Windows; elsewhere it is refused).</summary>
[TestClass]
public sealed unsafe class ExecutableMemoryTests
{
    [TestMethod]
    public void MappedCodeRunsAndReturnsItsValue()
    {
        byte[] returns42 = [0xB8, 42, 0, 0, 0, 0xC3];   // mov eax, 42; ret
        void* code = ExecutableMemory.TryCreate(returns42);
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || !(OperatingSystem.IsLinux() || OperatingSystem.IsWindows()))
        {
            Assert.IsTrue(code == null, "only x64 Linux and Windows map code");
            return;
        }
        if (code == null)
            Assert.Inconclusive("this system refuses executable memory (the int8 kernels fall back to the managed paths)");
        Assert.AreEqual(42, ((delegate* unmanaged<int>)code)());
    }
}
