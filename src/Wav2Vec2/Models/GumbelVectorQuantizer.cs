using Wav2Vec2.Autograd;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>What the quantizer produced for N latent frames.</summary>
/// <param name="Codevectors">(N, codevector_dim): one codevector per group, concatenated.</param>
/// <param name="ProbPerplexity">Scalar (differentiable): perplexity of the averaged soft code distribution.</param>
/// <param name="CodePerplexity">Perplexity of the argmax codes (fairseq's code_perplexity, in training too).</param>
/// <param name="Codes">(N, G) entries whose codevectors were output: the Gumbel samples in training, the argmax in
/// evaluation. Two frames with equal codes have equal targets (fairseq's neg_is_pos test compares these).</param>
internal sealed record QuantizerOutput(Tensor Codevectors, Tensor ProbPerplexity, double CodePerplexity, int[] Codes);

/// <summary>
/// Product quantizer with G codebooks of V entries (fairseq's GumbelVectorQuantizer; Hugging Face names
/// "codevectors" (1, G V, D / G) and "weight_proj"). A linear layer gives G V logits per frame; training picks one entry
/// per group by hard Gumbel-softmax (straight-through), evaluation by argmax.
/// </summary>
internal sealed class GumbelVectorQuantizer : Module
{
    private readonly int _groups, _entries, _dimPerGroup;
    private readonly Nn.Linear _weightProj;
    private readonly Parameter _codevectors;

    /// <summary>Creates the quantizer: logits weights normal(0, 1), zero bias; codevectors uniform in [0, 1).</summary>
    public GumbelVectorQuantizer(Wav2Vec2Config config, RandomSource random)
    {
        (_groups, _entries) = (config.NumCodevectorGroups, config.NumCodevectorsPerGroup);
        _dimPerGroup = config.CodevectorDim / _groups;
        _codevectors = AddParameter("codevectors", 1, _groups * _entries, _dimPerGroup);
        for (int i = 0; i < _codevectors.Length; i++)
            _codevectors.Span[i] = random.NextUniform();
        _weightProj = AddModule("weight_proj", new Nn.Linear(config.ConvDim[^1], _groups * _entries, random, normalStd: 1f));
    }

    /// <summary>Gumbel noise (N x groups, entries) to use instead of drawing it: replays another engine's draws
    /// (tools/pretrain_twin.py's one-step check).</summary>
    internal Tensor? ReplayNoise { get; set; }

    /// <summary>Quantizes latents (N, conv_dim[-1]).</summary>
    public QuantizerOutput Forward(Tensor latents, float temperature, RandomSource random)
    {
        int n = latents.Size(0);
        Tensor logits = _weightProj.Forward(latents);                                        // (N, G V)
        Tensor grouped = Ops.Reshape(logits, n, _groups, _entries);
        Tensor probPerplexity = Ops.ProbabilityPerplexity(grouped);
        int[] argmax = new int[n * _groups], codes;
        for (int r = 0; r < n * _groups; r++)
            argmax[r] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Span.Slice(r * _entries, _entries));
        Tensor oneHot;
        if (Training)
        {
            Tensor rows = Ops.Reshape(logits, n * _groups, _entries);
            (oneHot, codes) = ReplayNoise is Tensor noise ? Ops.GumbelSoftmaxHard(rows, temperature, noise)
                : Ops.GumbelSoftmaxHard(rows, temperature, random);
        }
        else
        {
            codes = argmax;
            oneHot = new Tensor(n * _groups, _entries);
            for (int r = 0; r < codes.Length; r++)
                oneHot.Span[r * _entries + codes[r]] = 1f;
        }
        // (G, N, V) x (G, V, D/G) -> (G, N, D/G) -> (N, G * D/G)
        Tensor perGroup = Ops.Transpose(Ops.Reshape(oneHot, n, _groups, _entries), 0, 1);
        Tensor chosen = Ops.MatMul(perGroup, Ops.Reshape(_codevectors, _groups, _entries, _dimPerGroup));
        Tensor codevectors = Ops.Reshape(Ops.Transpose(chosen, 0, 1), n, _groups * _dimPerGroup);
        return new QuantizerOutput(codevectors, probPerplexity, CodePerplexity(argmax, n), codes);
    }

    // Sum over groups of exp(entropy) of the hard code histogram (fairseq's code_perplexity, eps 1e-7).
    private double CodePerplexity(int[] codes, int n)
    {
        double total = 0;
        var counts = new int[_entries];
        for (int g = 0; g < _groups; g++)
        {
            Array.Clear(counts);
            for (int r = 0; r < n; r++)
                counts[codes[r * _groups + g]]++;
            double entropy = 0;
            foreach (int count in counts)
            {
                double p = (double)count / Math.Max(1, n);
                entropy -= p * Math.Log(p + 1e-7);
            }
            total += Math.Exp(entropy);
        }
        return total;
    }
}
