using Wav2Vec2.Training;
using Wav2Vec2.Autograd;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Tests.Autograd;

[TestClass]
public sealed class TapeTests
{
    [TestCleanup]
    public void Restore() => Parallelism.DegreeOfParallelism = Environment.ProcessorCount;

    [TestMethod]
    public void ShapeErrorsNameTheOperationAndShapes()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Ops.Linear(new Tensor(2, 3), new Tensor(4, 5)));
        StringAssert.Contains(error.Message, "Linear: input (2, 3) does not end in 5 features");
        error = Assert.ThrowsExactly<ArgumentException>(() => Ops.Add(new Tensor(2, 3), new Tensor(4)));
        StringAssert.Contains(error.Message, "do not broadcast");
        error = Assert.ThrowsExactly<ArgumentException>(() => Ops.AddLayerNorm(new Tensor(2, 3), new Tensor(3), null, null));
        StringAssert.Contains(error.Message, "AddLayerNorm: input (2, 3) and residual (3) differ in shape");
        error = Assert.ThrowsExactly<ArgumentException>(() => Ops.Conv1d(new Tensor(1, 3, 10), new Tensor(4, 2, 3)));
        StringAssert.Contains(error.Message, "expects 2 input channels");
        error = Assert.ThrowsExactly<ArgumentException>(() => Ops.Conv1d(new Tensor(1, 1, 4), new Tensor(2, 1, 10)));
        StringAssert.Contains(error.Message, "too short");
        error = Assert.ThrowsExactly<ArgumentException>(() => Ops.CrossEntropy(new Tensor(2, 3), [0, 3]));
        StringAssert.Contains(error.Message, "target 3 of row 1");
        Assert.ThrowsExactly<ArgumentException>(() => new Tensor(2, -1));
        Assert.ThrowsExactly<IndexOutOfRangeException>(() => _ = new Tensor(2, 2)[2, 0]);
    }

    [TestMethod]
    public void NoGradScopeRecordsNothingAndFrozenParametersGetNoGradient()
    {
        var w = new Parameter("w", 3, 3);
        Tensor x = RandomTensor(1, 2, 3);
        using var tape = new Tape();
        using (Tape.NoGrad())
        {
            Tensor y = Ops.Linear(x, w);
            Assert.IsFalse(y.RequiresGrad);
        }
        Assert.AreEqual(0, tape.Count);
        w.RequiresGrad = false;
        Tensor z = Ops.Linear(x, w);
        Assert.AreEqual(0, tape.Count, "nothing requires a gradient");
        Assert.IsFalse(z.RequiresGrad);
    }

    [TestMethod]
    public void GradientsAccumulateAcrossBackwardPassesUntilZeroed()
    {
        var w = new Parameter("w", 1);
        w.Span[0] = 2f;
        for (int pass = 0; pass < 2; pass++)
        {
            using var tape = new Tape();
            tape.Backward(Ops.Sum(Ops.Multiply(w, Tensor.FromArray([3f], 1))));
        }
        Assert.AreEqual(6f, w.Grad!.Span[0]);
        w.ZeroGrad();
        Assert.AreEqual(0f, w.Grad.Span[0]);
    }

    [TestMethod]
    public void BackwardNeedsAScalarOrAnExplicitGradient()
    {
        var w = new Parameter("w", 2);
        using var tape = new Tape();
        Tensor y = Ops.Scale(w, 2f);
        Assert.ThrowsExactly<ArgumentException>(() => tape.Backward(y));
        Assert.ThrowsExactly<InvalidOperationException>(() => tape.Backward(Tensor.Scalar(1f)));
    }

    [TestMethod]
    public void GeluFusedIntoLinearConvAndGroupNormEqualsTheSeparateOps()
    {
        // Without a tape the GELU is applied as the GEMM stores each tile; with one, two ops are recorded.
        Tensor x = RandomTensor(50, 2, 31, 24), w = RandomTensor(51, 40, 24), b = RandomTensor(52, 40);
        Tensor cw = RandomTensor(53, 40, 24, 3);
        using var _ = Tape.NoGrad();
        AssertClose(Ops.Gelu(Ops.Linear(x, w, b)), Ops.Linear(x, w, b, gelu: true), 1e-6f, "linear + GELU");
        AssertClose(Ops.Gelu(Ops.Conv1dChannelsLast(x, cw, b, stride: 2)),
            Ops.Conv1dChannelsLast(x, cw, b, stride: 2, gelu: true), 1e-6f, "conv + GELU");
        Tensor gamma = RandomTensor(54, 24), beta = RandomTensor(55, 24);
        AssertClose(Ops.Gelu(Ops.GroupNormChannelsLast(x, 24, gamma, beta)),
            Ops.GroupNormChannelsLast(x, 24, gamma, beta, gelu: true), 1e-6f, "group norm + GELU");
    }

    [TestMethod]
    [DoNotParallelize]   // sets the process-wide thread count
    public void TrainingStepInAnArenaAllocatesLittleAndIndependentlyOfSequenceLength()
    {
        // Forward + backward + AdamW of a small attention block. After warm-up the arena recycles every activation and
        // gradient, so what a step still allocates is bookkeeping (closures, shape arrays, task scheduling): bounded,
        // and the same whether the sequence is 50 or 400 frames long (400 frames = 8 MB of attention probabilities).
        var random = new RandomSource(1);
        var q = new Linear(64, 64, random);
        var ff = new Linear(64, 256, random);
        var back = new Linear(256, 64, random);
        var optimizer = new AdamW([.. q.Parameters(), .. ff.Parameters(), .. back.Parameters()]);
        long BytesPerStep(int frames)
        {
            Tensor x = RandomTensor(2, 4, frames, 64);
            void Step()
            {
                using var arena = new TensorArena();
                using var tape = new Tape();
                Tensor h = Ops.Attention(q.Forward(x), x, x, heads: 4, dropout: 0.1f, random: random);
                h = Ops.LayerNorm(Ops.Add(x, h), null, null);
                Tensor y = back.Forward(Ops.Gelu(ff.Forward(h)));
                optimizer.ZeroGrad();
                tape.Backward(Ops.Mean(Ops.Multiply(y, y)));
                optimizer.Update();
            }
            for (int i = 0; i < 3; i++)
                Step();
            long before = GC.GetAllocatedBytesForCurrentThread();
            const int steps = 4;
            for (int i = 0; i < steps; i++)
                Step();
            return (GC.GetAllocatedBytesForCurrentThread() - before) / steps;
        }
        // One thread, so that everything the engine allocates is on this thread and nothing else the test host runs
        // meanwhile is counted.
        Parallelism.DegreeOfParallelism = 1;
        long small, large;
        try
        {
            (small, large) = (BytesPerStep(50), BytesPerStep(400));
        }
        finally
        {
            Parallelism.DegreeOfParallelism = Environment.ProcessorCount;
        }
        Assert.IsTrue(large < 256 * 1024, $"a 400-frame step allocated {large} bytes on the managed heap");
        Assert.IsTrue(large < small + 32 * 1024, $"allocation grows with length: {small} -> {large} bytes per step");
    }

    [TestMethod]
    [DoNotParallelize]   // sets the process-wide thread count
    public void SeededRunsAreBitIdenticalForAFixedThreadCount()
    {
        float[] Run(int threads)
        {
            Parallelism.DegreeOfParallelism = threads;
            var random = new RandomSource(9);
            var layer = new Linear(32, 32, random);
            Tensor x = RandomTensor(3, 2, 40, 32);
            using var tape = new Tape();
            Tensor y = Ops.Attention(layer.Forward(x), x, x, heads: 4, dropout: 0.2f, random: random);
            tape.Backward(Ops.Sum(Ops.Dropout(Ops.Gelu(y), 0.1f, random)));
            return layer.Weight.Grad!.ToArray().Concat(y.ToArray()).ToArray();
        }
        CollectionAssert.AreEqual(Run(2), Run(2));
        CollectionAssert.AreEqual(Run(1), Run(1));
    }
}
