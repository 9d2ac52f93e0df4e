namespace Wav2Vec2.IO;

/// <summary>
/// The one table of checkpoint naming conventions. Our modules register Hugging Face names ("encoder.layers.0...");
/// published checkpoints spell some of them differently, and this class maps between the spellings.
/// </summary>
public static class CheckpointNames
{
    /// <summary>Prefix of the backbone inside Wav2Vec2ForCTC / Wav2Vec2ForPreTraining checkpoints.</summary>
    public const string BackbonePrefix = "wav2vec2.";

    // Newer PyTorch stores weight norm as a parametrization; older as weight_g / weight_v. Ours: the older names.
    private static readonly (string Stored, string Ours)[] Aliases =
    [
        ("parametrizations.weight.original0", "weight_g"),
        ("parametrizations.weight.original1", "weight_v"),
    ];

    /// <summary>Tensors of known heads: expected in a checkpoint when only the backbone is loaded.</summary>
    private static readonly string[] HeadPrefixes = ["lm_head.", "quantizer.", "project_q.", "project_hid.", "projector.", "classifier."];

    /// <summary>Our spelling of a stored name (weight-norm aliases resolved).</summary>
    public static string Canonical(string stored)
    {
        foreach (var (storedSuffix, ours) in Aliases)
            if (stored.EndsWith(storedSuffix, StringComparison.Ordinal))
                return stored[..^storedSuffix.Length] + ours;
        return stored;
    }

    /// <summary>True for a tensor of a task head (CTC, pre-training, classification) rather than of the backbone.</summary>
    public static bool IsHeadTensor(string canonical) => HeadPrefixes.Any(p => canonical.StartsWith(p, StringComparison.Ordinal));

    /// <summary>
    /// Stored spellings that can hold our parameter <paramref name="name"/>, most likely first: the name itself, then
    /// without or with the backbone prefix (a backbone loaded from a ForCTC checkpoint, or the reverse).
    /// </summary>
    public static IEnumerable<string> Candidates(string name)
    {
        yield return name;
        if (name.StartsWith(BackbonePrefix, StringComparison.Ordinal))
            yield return name[BackbonePrefix.Length..];
        else if (!IsHeadTensor(name))
            yield return BackbonePrefix + name;
    }
}
