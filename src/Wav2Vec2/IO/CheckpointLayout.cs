namespace Wav2Vec2.IO;

/// <summary>
/// How a model's parameter names map onto a checkpoint's, knowing nothing of any particular model: a model may be
/// stored alone or nested under <see cref="NestedPrefix"/> inside a larger one (a backbone inside a task model), and
/// tensors under <see cref="HeadPrefixes"/> belong to task heads that a backbone-only load may leave unused. Published
/// checkpoints also spell weight norm in two ways, resolved by <see cref="Canonical"/>.
/// </summary>
/// <param name="NestedPrefix">Prefix of the nested model inside larger checkpoints ("" for none).</param>
/// <param name="HeadPrefixes">Prefixes of head tensors that may be stored but not loaded.</param>
internal sealed record CheckpointLayout(string NestedPrefix, IReadOnlyList<string> HeadPrefixes)
{
    /// <summary>Exact names only: no nesting, no ignorable heads.</summary>
    public static CheckpointLayout Exact { get; } = new("", []);

    // Newer PyTorch stores weight norm as a parametrization; older as weight_g / weight_v. Ours: the older names.
    private static readonly (string Stored, string Ours)[] Aliases =
    [
        ("parametrizations.weight.original0", "weight_g"),
        ("parametrizations.weight.original1", "weight_v"),
    ];

    /// <summary>Our spelling of a stored name (weight-norm aliases resolved).</summary>
    public static string Canonical(string stored)
    {
        foreach (var (storedSuffix, ours) in Aliases)
            if (stored.EndsWith(storedSuffix, StringComparison.Ordinal))
                return stored[..^storedSuffix.Length] + ours;
        return stored;
    }

    /// <summary>True for a stored tensor of a task head (with or without the nesting prefix).</summary>
    public bool IsHeadTensor(string canonical)
    {
        string name = NestedPrefix.Length > 0 && canonical.StartsWith(NestedPrefix, StringComparison.Ordinal)
            ? canonical[NestedPrefix.Length..] : canonical;
        return HeadPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));
    }

    /// <summary>
    /// Stored spellings that can hold our parameter <paramref name="name"/>, most likely first: the name itself, then
    /// without or with the nesting prefix (a backbone loaded from a task checkpoint, or the reverse).
    /// </summary>
    public IEnumerable<string> Candidates(string name)
    {
        yield return name;
        if (NestedPrefix.Length == 0)
            yield break;
        if (name.StartsWith(NestedPrefix, StringComparison.Ordinal))
            yield return name[NestedPrefix.Length..];
        else if (!IsHeadTensor(name))
            yield return NestedPrefix + name;
    }
}
