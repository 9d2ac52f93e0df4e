using Wav2Vec2.Tensors;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Tests.Threading;

[TestClass]
public sealed class ParallelismTests
{
    [TestMethod]
    public void ParallelForRunsEveryIndexOnceAndDoesNotNest()
    {
        var hits = new int[1000];
        int nestedThreads = 0;
        Parallelism.For(hits.Length, i =>
        {
            Interlocked.Increment(ref hits[i]);
            if (i == 0)
                nestedThreads = Parallelism.AvailableThreads;
        });
        Assert.IsTrue(hits.All(h => h == 1));
        if (Parallelism.DegreeOfParallelism > 1)
            Assert.AreEqual(1, nestedThreads, "kernels inside a parallel region must run serially");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Parallelism.DegreeOfParallelism = 0);
    }
}
