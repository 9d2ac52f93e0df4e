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

    [TestMethod]
    public void AnExceptionInAPartIsRethrownOnceEveryPartHasFinished()
    {
        var finished = new int[64];
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Parallelism.For(finished.Length, i =>
        {
            if (i == finished.Length - 1)
                throw new InvalidOperationException("part failed");
            Thread.Sleep(1);
            finished[i] = 1;
        }));
        Assert.AreEqual("part failed", error.Message);
        Assert.AreEqual(finished.Length - 1, finished.Sum(), "every other index ran before the call returned");
    }

    [TestMethod]
    public void ConcurrentCallersEachRunEveryIndexOnce()
    {
        // Two threads fanning out at once: one gets the workers, the other falls back; both must be complete.
        var sums = new long[2];
        Parallel.For(0, 2, caller =>
        {
            for (int round = 0; round < 200; round++)
            {
                long local = 0;
                Parallelism.For(100, i => Interlocked.Add(ref local, i));
                Interlocked.Add(ref sums[caller], local);
            }
        });
        CollectionAssert.AreEqual(new long[] { 200 * 4950, 200 * 4950 }, sums);
    }

    [TestMethod]
    public void AScopeHoldsForItsFlowOnlyAndRestoresTheOuterDegree()
    {
        int processDegree = Parallelism.DegreeOfParallelism;
        using var inside = new ManualResetEventSlim();
        using var checkedOutside = new ManualResetEventSlim();
        int seenOutside = 0;
        var outside = new Thread(() =>
        {
            inside.Wait();
            seenOutside = Parallelism.DegreeOfParallelism;
            checkedOutside.Set();
        });
        outside.Start();
        using (Parallelism.Scope(3))
        {
            Assert.AreEqual(3, Parallelism.DegreeOfParallelism);
            using (Parallelism.Scope(1))
                Assert.AreEqual(1, Task.Run(() => Parallelism.DegreeOfParallelism).Result, "a scope flows into the tasks its computation starts");
            Assert.AreEqual(3, Parallelism.DegreeOfParallelism, "the inner scope restored the outer one");
            inside.Set();
            checkedOutside.Wait();
        }
        outside.Join();
        Assert.AreEqual(processDegree, seenOutside, "another thread keeps the process default");
        Assert.AreEqual(processDegree, Parallelism.DegreeOfParallelism);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Parallelism.Scope(0));
    }
}
