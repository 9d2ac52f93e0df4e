using Wav2Vec2.Autograd;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Support;

/// <summary>
/// Central-difference gradient check (ggml's test-backend-ops habit): L = sum(f(x) * G) for a fixed random G; for
/// sampled elements of every input, (L(x + eps) - L(x - eps)) / 2 eps must match the tape's gradient.
/// </summary>
internal static class GradientChecker
{
    public static void Check(string op, Func<Tensor[], Tensor> f, Tensor[] inputs, float eps = 1e-2f,
        float relativeTolerance = 2e-2f, float absoluteTolerance = 2e-3f, int samplesPerInput = 24)
    {
        foreach (Tensor input in inputs)
        {
            input.RequiresGrad = true;
            input.Grad = null;
        }
        Tensor probe;
        using (Tape.NoGrad())
            probe = f(inputs);
        Tensor g = TestSupport.RandomTensor(97, probe.ShapeArray);

        using (var tape = new Tape())
            tape.Backward(f(inputs), g);

        var random = new Random(5);
        for (int n = 0; n < inputs.Length; n++)
        {
            Tensor input = inputs[n];
            Assert.IsNotNull(input.Grad, $"{op}: input {n} got no gradient");
            int samples = Math.Min(samplesPerInput, input.Length);
            for (int s = 0; s < samples; s++)
            {
                int i = samples == input.Length ? s : random.Next(input.Length);
                float original = input.Span[i];
                input.Span[i] = original + eps;
                double plus = Loss(f, inputs, g);
                input.Span[i] = original - eps;
                double minus = Loss(f, inputs, g);
                input.Span[i] = original;
                double numeric = (plus - minus) / (2 * eps);
                double analytic = input.Grad!.Span[i];
                double allowed = absoluteTolerance + relativeTolerance * Math.Max(Math.Abs(numeric), Math.Abs(analytic));
                Assert.IsTrue(Math.Abs(numeric - analytic) <= allowed,
                    $"{op}: d/dinput{n}[{i}] numeric {numeric:G6} vs analytic {analytic:G6}");
            }
        }
    }

    private static double Loss(Func<Tensor[], Tensor> f, Tensor[] inputs, Tensor g)
    {
        using (Tape.NoGrad())
        {
            ReadOnlySpan<float> y = f(inputs).Span, gs = g.Span;
            double sum = 0;
            for (int i = 0; i < y.Length; i++)
                sum += (double)y[i] * gs[i];
            return sum;
        }
    }
}
