using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.Models;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Inference;

/// <summary>
/// Inference outputs (features, hidden states, logits, probabilities) never hold NaN or infinity: each output is
/// checked in one vectorised pass (weights are not scanned at load, which would touch every page of a memory-mapped
/// checkpoint). Only when a non-finite value is found is the forward pass re-run stage by stage to name the first
/// stage that produced one and the parameters of that stage that hold non-finite values.
/// </summary>
internal static class NonFiniteCheck
{
    /// <summary>Wraps <paramref name="forward"/> so that a non-finite output throws instead of being returned.</summary>
    public static Func<Tensor, int[]?, Tensor> Guard(Module model, Func<Tensor, int[]?, Tensor> forward) => (values, lengths) =>
    {
        Tensor output = forward(values, lengths);
        if (!TensorPrimitives.IsFiniteAll<float>(output.Span))
            throw Diagnose(model, values, lengths);
        return output;
    };

    /// <summary>As <see cref="Guard(Module, Func{Tensor, int[], Tensor})"/> for a forward pass without lengths.</summary>
    public static Func<Tensor, Tensor> Guard(Module model, Func<Tensor, Tensor> forward)
    {
        Func<Tensor, int[]?, Tensor> guarded = Guard(model, (values, _) => forward(values));
        return values => guarded(values, null);
    }

    /// <summary>Throws when a head's output computed from finite hidden states holds a non-finite value.</summary>
    public static void EnsureHeadOutput(Wav2Vec2TaskModel model, ReadOnlySpan<float> output)
    {
        if (!TensorPrimitives.IsFiniteAll(output))
            throw Blame(model, "the head", HeadParameters(model));
    }

    private static Exception Diagnose(Module model, Tensor values, int[]? lengths)
    {
        Wav2Vec2Model backbone = Backbone(model);
        if (!TensorPrimitives.IsFiniteAll<float>(values.Span))
            return new ArgumentException($"{Name(backbone)}: the model input holds non-finite values");
        string prefix = model is Wav2Vec2TaskModel ? PretrainedDirectory.BackboneName(backbone.Config) + "." : "";
        if (backbone.FirstNonFiniteStage(values, lengths) is string[] modules)
        {
            string[] prefixed = [.. modules.Select(m => prefix + m)];
            return Blame(model, string.Join(" / ", prefixed.Select(m => m.TrimEnd('.'))),
                model.NamedParameters().Where(p => prefixed.Any(m => p.Name.StartsWith(m, StringComparison.Ordinal))));
        }
        return model is Wav2Vec2TaskModel task ? Blame(task, "the head", HeadParameters(task))
            : new InvalidDataException($"{Name(backbone)}: the output holds non-finite values that no stage reproduces");
    }

    // Names the stage and its parameters holding non-finite values; finite weights that still overflow are shown by
    // their largest magnitude (a checkpoint read at the wrong offset gives values near float's limits).
    private static InvalidDataException Blame(Module model, string stage, IEnumerable<(string Name, Parameter Parameter)> parameters)
    {
        var list = parameters.ToList();
        var bad = list.Where(p => !TensorPrimitives.IsFiniteAll<float>(p.Parameter.Values()))
            .Select(p => $"{p.Name} ({CountNonFinite(p.Parameter.Values())} of {p.Parameter.Length} values)").ToList();
        string cause = bad.Count > 0 ? $"non-finite weights: {IO.CheckpointLoader.FirstFew(bad)}"
            : list.Count == 0 ? "it has no weights"
            : $"its weights are finite, the largest is {list.Max(p => MaxMagnitude(p.Parameter)):G3} in {list.MaxBy(p => MaxMagnitude(p.Parameter)).Name}";
        return new InvalidDataException($"{Name(Backbone(model))}: non-finite values first appear in the output of {stage}; {cause}");
    }

    private static float MaxMagnitude(Parameter parameter) => parameter.Length == 0 ? 0 : MathF.Abs(TensorPrimitives.MaxMagnitude<float>(parameter.Values()));

    private static int CountNonFinite(ReadOnlySpan<float> values)
    {
        int count = 0;
        foreach (float v in values)
            if (!float.IsFinite(v))
                count++;
        return count;
    }

    private static IEnumerable<(string Name, Parameter Parameter)> HeadParameters(Wav2Vec2TaskModel model) =>
        model.NamedParameters().Where(p => !p.Name.StartsWith(PretrainedDirectory.BackboneName(model.Config) + ".", StringComparison.Ordinal));

    private static Wav2Vec2Model Backbone(Module model) => model as Wav2Vec2Model ?? ((Wav2Vec2TaskModel)model).Backbone;

    private static string Name(Wav2Vec2Model backbone) => backbone.SourceDirectory ?? "the model";
}
