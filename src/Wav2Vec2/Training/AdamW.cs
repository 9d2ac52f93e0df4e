using Wav2Vec2.Nn;
using Wav2Vec2.Threading;

namespace Wav2Vec2.Training;

/// <summary>Hyper-parameters of <see cref="AdamW"/> (defaults: fairseq wav2vec 2.0 pre-training).</summary>
public sealed record AdamWOptions
{
    /// <summary>Learning rate; a schedule may change it between steps.</summary>
    public float LearningRate { get; set; } = 5e-4f;

    /// <summary>First-moment decay.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Second-moment decay.</summary>
    public float Beta2 { get; init; } = 0.98f;

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; init; } = 1e-6f;

    /// <summary>Decoupled weight decay (p -= lr * wd * p before the Adam update).</summary>
    public float WeightDecay { get; init; } = 0.01f;

    /// <summary>
    /// fairseq's Adam: epsilon is added to the square root of the uncorrected second moment, with the bias corrections
    /// folded into the step (lr sqrt(1 - b2^t) / (1 - b1^t)); torch's Adam adds it after the correction. The same as
    /// torch's form with epsilon / sqrt(1 - b2^t), which only matters in the first few hundred steps.
    /// </summary>
    public bool EpsilonBeforeBiasCorrection { get; init; }
}

/// <summary>
/// Adam with decoupled weight decay and bias correction, the update of torch.optim.AdamW:
/// p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps),
/// or fairseq's Adam (<see cref="AdamWOptions.EpsilonBeforeBiasCorrection"/>): p -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps).
/// Parameters without a gradient are skipped. The state (step, m, v) saves to and loads from a stream.
/// </summary>
public sealed class AdamW
{
    private const int FormatVersion = 1;
    private static readonly byte[] Magic = "W2V2ADAM"u8.ToArray();
    private const int Chunk = 1 << 16;

    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly float[][] _m, _v;

    /// <summary>Creates the optimiser over <paramref name="parameters"/> (order matters for saved state).</summary>
    public AdamW(IReadOnlyList<Parameter> parameters, AdamWOptions? options = null)
    {
        _parameters = parameters;
        Options = options ?? new AdamWOptions();
        _m = parameters.Select(p => new float[p.Length]).ToArray();
        _v = parameters.Select(p => new float[p.Length]).ToArray();
    }

    /// <summary>The hyper-parameters (the learning rate may be changed between steps).</summary>
    public AdamWOptions Options { get; }

    /// <summary>Number of updates taken.</summary>
    public long Step { get; private set; }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (Parameter parameter in _parameters)
            parameter.ZeroGrad();
    }

    /// <summary>Applies one update from the current gradients.</summary>
    public void Update()
    {
        Step++;
        float lr = Options.LearningRate, b1 = Options.Beta1, b2 = Options.Beta2;
        float stepSize = lr / (1f - MathF.Pow(b1, Step));
        float sqrtCorrection2 = MathF.Sqrt(1f - MathF.Pow(b2, Step));
        float decay = 1f - lr * Options.WeightDecay;
        float eps = Options.EpsilonBeforeBiasCorrection ? Options.Epsilon / sqrtCorrection2 : Options.Epsilon;
        var work = new List<(int Parameter, int Start, int Length)>();
        for (int i = 0; i < _parameters.Count; i++)
            if (_parameters[i].Grad != null)
                for (int start = 0; start < _parameters[i].Length; start += Chunk)
                    work.Add((i, start, Math.Min(Chunk, _parameters[i].Length - start)));
        Parallelism.For(work.Count, w =>
        {
            (int index, int start, int length) = work[w];
            Parameter parameter = _parameters[index];
            UpdateRange(parameter.Span.Slice(start, length), parameter.Grad!.Span.Slice(start, length),
                _m[index].AsSpan(start, length), _v[index].AsSpan(start, length),
                b1, b2, eps, decay, stepSize, sqrtCorrection2);
        });
    }

    private static unsafe void UpdateRange(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float b1, float b2, float eps, float decay, float stepSize, float sqrtCorrection2)
    {
        fixed (float* pp = p, pg = g, pm = m, pv = v)
        {
            var kernel = new UpdateKernel(pp, pg, pm, pv, p.Length, b1, b2, eps, decay, stepSize, sqrtCorrection2);
            Kernels.Simd.Run(ref kernel);
        }
    }

    // One fused pass over parameter, gradient and both moments, generic over the vector width.
    private readonly unsafe struct UpdateKernel(float* p, float* g, float* m, float* v, int n, float b1, float b2, float eps,
        float decay, float stepSize, float sqrtCorrection2) : Kernels.IVectorKernel
    {
        public void Run<TVec>() where TVec : struct, Kernels.ISimd<TVec>
        {
            TVec vb1 = TVec.Create(b1), vb2 = TVec.Create(b2), ob1 = TVec.Create(1f - b1), ob2 = TVec.Create(1f - b2);
            TVec correction = TVec.Create(sqrtCorrection2), epsilon = TVec.Create(eps), vDecay = TVec.Create(decay);
            TVec step = TVec.Create(stepSize);
            int i = 0;
            for (; i <= n - TVec.Count; i += TVec.Count)
            {
                TVec gv = TVec.Load(g + i);
                TVec mv = TVec.Load(m + i) * vb1 + gv * ob1;
                TVec vv = TVec.Load(v + i) * vb2 + gv * gv * ob2;
                TVec denominator = TVec.Sqrt(vv) / correction + epsilon;
                TVec.Store(mv, m + i);
                TVec.Store(vv, v + i);
                TVec.Store(TVec.Load(p + i) * vDecay - mv / denominator * step, p + i);
            }
            Scalar(i);
        }

        public void RunScalar() => Scalar(0);

        private void Scalar(int from)
        {
            for (int i = from; i < n; i++)
            {
                m[i] = m[i] * b1 + g[i] * (1f - b1);
                v[i] = v[i] * b2 + g[i] * g[i] * (1f - b2);
                p[i] = p[i] * decay - m[i] / (MathF.Sqrt(v[i]) / sqrtCorrection2 + eps) * stepSize;
            }
        }
    }

    /// <summary>Writes the step count and moment estimates.</summary>
    public void Save(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(Step);
        writer.Write(_parameters.Count);
        for (int i = 0; i < _parameters.Count; i++)
        {
            writer.Write(_parameters[i].Length);
            foreach (float[] moment in new[] { _m[i], _v[i] })
                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(moment.AsSpan()));
        }
    }

    /// <summary>Restores state written by <see cref="Save"/> for the same parameter list.</summary>
    /// <exception cref="InvalidDataException">The stream is not an optimiser state for these parameters.</exception>
    public void Load(Stream stream)
    {
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic) || reader.ReadInt32() != FormatVersion)
                throw new InvalidDataException("not an AdamW state file (bad magic or version)");
            long step = reader.ReadInt64();
            int count = reader.ReadInt32();
            if (count != _parameters.Count)
                throw new InvalidDataException($"AdamW state has {count} parameters, the model has {_parameters.Count}");
            for (int i = 0; i < count; i++)
            {
                int length = reader.ReadInt32();
                if (length != _parameters[i].Length)
                    throw new InvalidDataException(
                        $"AdamW state of parameter {i} ({_parameters[i].Name}) has {length} elements, expected {_parameters[i].Length}");
                foreach (float[] moment in new[] { _m[i], _v[i] })
                    reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(moment.AsSpan()));
            }
            Step = step;
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("AdamW state file is truncated");
        }
    }
}
