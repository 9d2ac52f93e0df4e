using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;
using Wav2Vec2.Training;

namespace Wav2Vec2.Tests.Training;

[TestClass]
public sealed class AdamWTests : TempDirectoryTest
{
    [TestMethod]
    public void FairseqFormAddsEpsilonToTheUncorrectedSecondMoment()
    {
        // fairseq/optim/adam.py: p -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps), decay p *= 1 - lr wd first.
        var p = new Parameter("p", 3);
        float[] start = [0.5f, -1.5f, 2f];
        start.CopyTo(p.Span);
        const float lr = 0.1f, b1 = 0.9f, b2 = 0.98f, eps = 0.01f, wd = 0.1f;
        var optimizer = new AdamW([p], new AdamWOptions { LearningRate = lr, Beta1 = b1, Beta2 = b2, Epsilon = eps, WeightDecay = wd, EpsilonBeforeBiasCorrection = true });
        double[] expected = start.Select(v => (double)v).ToArray(), m = new double[3], v2 = new double[3];
        float[][] gradients = [[0.3f, -0.2f, 0.05f], [0.1f, 0.4f, -0.3f], [-0.2f, 0.1f, 0.2f]];
        for (int t = 1; t <= 3; t++)
        {
            p.Grad = Tensor.FromArray(gradients[t - 1], 3);
            optimizer.Update();
            double stepSize = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
            for (int i = 0; i < 3; i++)
            {
                double g = gradients[t - 1][i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v2[i] = b2 * v2[i] + (1 - b2) * g * g;
                expected[i] = expected[i] * (1 - lr * wd) - stepSize * m[i] / (Math.Sqrt(v2[i]) + eps);
            }
            AssertClose(expected.Select(x => (float)x).ToArray(), p.Span, 1e-6f, $"step {t}");
        }
    }

    [TestMethod]
    [DoNotParallelize]   // sets the process-wide kernel path
    [DynamicData(nameof(VectorPaths))]
    public void EveryKernelPathUpdatesLikeTheScalarTwin(string path)
    {
        float[] Run(Wav2Vec2.Kernels.KernelPath kernelPath)
        {
            Wav2Vec2.Kernels.KernelPaths.Requested = kernelPath;
            try
            {
                var p = new Parameter("p", 1001);   // odd length: vectors and a scalar tail
                RandomArray(1001, 1).CopyTo(p.Span);
                var optimizer = new AdamW([p], new AdamWOptions { LearningRate = 1e-2f });
                for (int step = 0; step < 3; step++)
                {
                    optimizer.ZeroGrad();
                    p.Grad = Tensor.FromArray(RandomArray(1001, 2 + step), 1001);
                    optimizer.Update();
                }
                return p.ToArray();
            }
            finally
            {
                Wav2Vec2.Kernels.KernelPaths.Requested = Wav2Vec2.Kernels.KernelPath.Auto;
            }
        }
        AssertClose(Run(Wav2Vec2.Kernels.KernelPath.Scalar), Run(Wav2Vec2.Kernels.KernelPaths.Parse(path)), 1e-6f, $"AdamW on {path}");
    }

    public static IEnumerable<object[]> VectorPaths() => TestSupport.VectorPaths();

    [TestMethod]
    public void AdamWMatchesTorchOverThreeSteps()
    {
        var p = new Parameter("p", 10);
        EngineFixture.Read("adamw.p0").Span.CopyTo(p.Span);
        var optimizer = new AdamW([p], new AdamWOptions { LearningRate = 1e-2f, Beta1 = 0.9f, Beta2 = 0.98f, Epsilon = 1e-6f, WeightDecay = 0.01f });
        for (int step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            p.Grad = EngineFixture.Read($"adamw.grad{step}");
            optimizer.Update();
            AssertClose(EngineFixture.Read($"adamw.p{step + 1}").Span, p.Span, 1e-6f, $"AdamW step {step + 1}");
        }
    }

    [TestMethod]
    public void AdamWStateRoundTripsSoThatResumingEqualsContinuing()
    {
        (Parameter p, AdamW optimizer) Make()
        {
            var parameter = new Parameter("p", 37);
            RandomTensor(1, 37).Span.CopyTo(parameter.Span);
            return (parameter, new AdamW([parameter]));
        }
        void Step(Parameter parameter, AdamW optimizer, int seed)
        {
            parameter.Grad = RandomTensor(seed, 37);
            optimizer.Update();
        }
        var (p1, o1) = Make();
        for (int s = 0; s < 4; s++)
            Step(p1, o1, 10 + s);

        var (p2, o2) = Make();
        Step(p2, o2, 10);
        Step(p2, o2, 11);
        var state = new MemoryStream();
        o2.Save(state);
        float[] weights = p2.ToArray();
        var (p3, o3) = Make();
        weights.CopyTo(p3.Span);
        state.Position = 0;
        o3.Load(state);
        Assert.AreEqual(2, o3.Step);
        Step(p3, o3, 12);
        Step(p3, o3, 13);
        CollectionAssert.AreEqual(p1.ToArray(), p3.ToArray());
    }

    [TestMethod]
    public void AdamWRejectsStateOfAnotherModel()
    {
        var state = new MemoryStream();
        new AdamW([new Parameter("a", 3)]).Save(state);
        state.Position = 0;
        var error = Assert.ThrowsExactly<InvalidDataException>(() => new AdamW([new Parameter("b", 4)]).Load(state));
        StringAssert.Contains(error.Message, "has 3 elements, expected 4");
        Assert.ThrowsExactly<InvalidDataException>(() => new AdamW([new Parameter("b", 4)]).Load(new MemoryStream([1, 2, 3])));
    }

    [TestMethod]
    public void GradientClippingMatchesTorch()
    {
        var a = new Parameter("a", 4, 3) { Grad = EngineFixture.Read("clip.g1") };
        var b = new Parameter("b", 5) { Grad = EngineFixture.Read("clip.g2") };
        double norm = GradientClipping.ClipByNorm([a, b], 1.5);
        Assert.AreEqual(EngineFixture.Read("clip.norm").ToScalar(), norm, 1e-5);
        AssertClose(EngineFixture.Read("clip.out1").Span, a.Grad!.Span, 1e-6f, "clipped a");
        AssertClose(EngineFixture.Read("clip.out2").Span, b.Grad!.Span, 1e-6f, "clipped b");
    }
}
