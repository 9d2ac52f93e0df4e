namespace Wav2Vec2.Autograd;

/// <summary>How a loss combines its per-item terms.</summary>
public enum Reduction
{
    /// <summary>Average over the items that count (not ignored).</summary>
    Mean,
    /// <summary>Sum over the items (fairseq's wav2vec criterion).</summary>
    Sum,
}
