using Microsoft.ML;
using Microsoft.ML.Data;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>A fitted pipeline as a flat list of transformers with their scopes (nested chains expanded).</summary>
internal static class ChainParts
{
    private static readonly TransformerScope[] Scopes = [TransformerScope.Training, TransformerScope.Testing, TransformerScope.Scoring];

    public static List<(ITransformer Transformer, TransformerScope Scope)> Flatten(ITransformer model,
        TransformerScope scope = TransformerScope.Everything)
    {
        var parts = new List<(ITransformer, TransformerScope)>();
        if (model is not IEnumerable<ITransformer> chain)
        {
            parts.Add((model, scope));
            return parts;
        }
        // A chain's scopes are private; GetModelFor(scope) tells which of its transformers belong to each scope.
        var members = Scopes.ToDictionary(s => s, s => ScopeMembers(model, s));
        foreach (ITransformer transformer in chain)
        {
            TransformerScope own = TransformerScope.None;
            foreach (TransformerScope s in Scopes)
                if (members[s]?.Any(t => ReferenceEquals(t, transformer)) ?? true)
                    own |= s;
            parts.AddRange(Flatten(transformer, own & scope));
        }
        return parts;
    }

    // The chain's transformers in `scope`, or null when the chain type has no GetModelFor (all scopes then).
    private static List<ITransformer>? ScopeMembers(ITransformer chain, TransformerScope scope) =>
        chain.GetType().GetMethod("GetModelFor", [typeof(TransformerScope)])?.Invoke(chain, [scope]) is IEnumerable<ITransformer> m
            ? m.ToList() : null;

    public static TransformerChain<ITransformer> Chain(IEnumerable<(ITransformer Transformer, TransformerScope Scope)> parts)
    {
        var list = parts.ToList();
        return new TransformerChain<ITransformer>(list.Select(p => p.Transformer), list.Select(p => p.Scope));
    }
}
