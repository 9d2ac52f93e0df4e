using Wav2Vec2.Autograd;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Tensors;

[TestClass]
public sealed class TensorTests
{
    [TestMethod]
    public void ViewSharesStorageAndInfersOneDimension()
    {
        Tensor x = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        Tensor y = x.View(3, -1);
        CollectionAssert.AreEqual(new[] { 3, 2 }, y.ShapeArray);
        y.Span[0] = 42;
        Assert.AreEqual(42f, x[0, 0], "a reshape shares storage");
        Assert.ThrowsExactly<ArgumentException>(() => x.View(4, -1));
        Assert.ThrowsExactly<ArgumentException>(() => x.View(-1, -1));
    }

    [TestMethod]
    public void ArenaReturnsStorageAndDisposedTensorsCannotBeRead()
    {
        Tensor kept, lost;
        using (var arena = new TensorArena())
        {
            lost = Ops.Scale(RandomTensor(1, 4, 4), 2f);
            kept = arena.Keep(lost);
            Assert.IsTrue(arena.TrackedCount >= 2);
        }
        Assert.AreEqual(16, kept.ToArray().Length);
        Assert.ThrowsExactly<ObjectDisposedException>(() => lost.ToArray());
    }

    [TestMethod]
    public void ArenaDoesNotRecycleStorageOfViewsOfHeapTensors()
    {
        var parameter = new Parameter("p", 2, 3);
        parameter.Span.Fill(7f);
        using (new TensorArena())
            _ = parameter.View(6);
        using (new TensorArena())
            _ = new Tensor(6);  // would reuse the parameter's array if the view had returned it
        Assert.IsTrue(parameter.ToArray().All(v => v == 7f));
    }

    [TestMethod]
    public void DropoutKeepsTheExpectedFractionScaledAndIsSeeded()
    {
        Tensor x = Tensor.Full(1f, 100_000);
        Tensor a = Ops.Dropout(x, 0.25f, new RandomSource(4));
        Tensor b = Ops.Dropout(x, 0.25f, new RandomSource(4));
        CollectionAssert.AreEqual(a.ToArray(), b.ToArray());
        int kept = a.ToArray().Count(v => v != 0);
        Assert.AreEqual(75_000, kept, 600);
        Assert.IsTrue(a.ToArray().Where(v => v != 0).All(v => Math.Abs(v - 1f / 0.75f) < 1e-6));
        Assert.AreSame(x, Ops.Dropout(x, 0f, new RandomSource(4)), "p = 0 is the identity");
        Assert.ThrowsExactly<ArgumentException>(() => Ops.Dropout(x, 1.5f, new RandomSource(4)));
    }

    [TestMethod]
    public void RandomSourceResumesFromItsOffsetAndHasSaneMoments()
    {
        var source = new RandomSource(123);
        double sum = 0, sumSquares = 0;
        const int n = 50_000;
        for (int i = 0; i < n; i++)
        {
            float v = source.NextNormal();
            sum += v;
            sumSquares += v * v;
        }
        Assert.AreEqual(0, sum / n, 0.02);
        Assert.AreEqual(1, sumSquares / n, 0.03);
        var resumed = new RandomSource(123) { Offset = source.Offset };
        Assert.AreEqual(source.NextUniform(), resumed.NextUniform());
        Assert.IsTrue(Enumerable.Range(0, 1000).All(_ => source.NextInt(7) is >= 0 and < 7));
    }
}
