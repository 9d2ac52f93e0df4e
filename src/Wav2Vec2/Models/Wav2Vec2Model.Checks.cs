using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Wav2Vec2.IO;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

// Checks that need the backbone's checkpoint names: the sizes config.json declares against the stored shapes (before
// anything is allocated), and the stage of a forward pass where non-finite values first appear (after one was seen).
public sealed partial class Wav2Vec2Model
{
    private const string Layers = "encoder.layers.", ConvLayers = "feature_extractor.conv_layers.", PositionalLayers = "encoder.pos_conv_embed.layers.";

    /// <summary>
    /// Checks the sizes <paramref name="config"/> declares against the shapes <paramref name="weights"/> stores, before
    /// a model is built: a config declaring more or wider layers than the checkpoint holds fails in milliseconds instead
    /// of allocating what it describes. Only the sizes that scale memory are checked (layer counts, widths, kernels);
    /// the load checks every shape. A checkpoint without a backbone (a head alone) is left to the load.
    /// </summary>
    /// <exception cref="InvalidDataException">A declared size disagrees with the checkpoint; names the field.</exception>
    internal static void CheckSizes(Wav2Vec2Config config, ITensorSource weights, string configPath)
    {
        // Stored names as the backbone spells them: without a task model's prefix, weight-norm aliases resolved.
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in weights.Names)
        {
            string canonical = CheckpointLayout.Canonical(name);
            string prefix = PretrainedDirectory.BackboneName(config) + ".";
            stored.TryAdd(canonical.StartsWith(prefix, StringComparison.Ordinal) ? canonical[prefix.Length..] : canonical, name);
        }
        int layers = CountIndexed(stored.Keys, Layers), convLayers = CountIndexed(stored.Keys, ConvLayers);
        if (layers == 0 && convLayers == 0)
            return;
        void Fail(string field, string message) => throw new InvalidDataException($"{configPath}: {field} {message}");
        if (config.NumHiddenLayers > layers)
            Fail("num_hidden_layers", $"is {config.NumHiddenLayers} but the checkpoint stores {layers} layers" +
                (layers > 0 ? $" ({Layers}0 to {layers - 1})" : ""));
        int positionalLayers = CountIndexed(stored.Keys, PositionalLayers);
        if (config.LayeredPositionalEmbedding && positionalLayers > 0 && config.NumConvPosEmbeddings > positionalLayers)
            Fail("num_conv_pos_embeddings", $"is {config.NumConvPosEmbeddings} but the checkpoint stores {positionalLayers} positional convolutions");
        if (config.ConvDim.Length > convLayers)
            Fail("conv_dim", $"lists {config.ConvDim.Length} conv layers but the checkpoint stores {convLayers}");
        foreach (var (field, declared, tensor, dim) in Witnesses(config, layers))
        {
            if (!stored.TryGetValue(tensor, out string? name))
                continue;
            int[] shape = weights.Shape(name);
            if (dim >= shape.Length || shape[dim] != declared)
                Fail(field, $"is {declared} but the checkpoint's {name} has shape {Tensor.FormatShape(shape)}");
        }
    }

    // (config field, declared size, stored tensor, dimension that holds it) for every size that scales memory.
    private static IEnumerable<(string Field, int Declared, string Tensor, int Dim)> Witnesses(Wav2Vec2Config config, int storedLayers)
    {
        yield return ("hidden_size", config.HiddenSize, "feature_projection.projection.weight", 0);
        yield return ("hidden_size", config.HiddenSize, "encoder.layer_norm.weight", 0);
        if (config.LayeredPositionalEmbedding)
            yield return ("conv_pos_kernel_size", config.ConvPosKernelSize, "encoder.pos_conv_embed.layers.0.conv.weight", 2);
        else
            yield return ("num_conv_pos_embeddings", config.NumConvPosEmbeddings, "encoder.pos_conv_embed.conv.weight_v", 2);
        // The heads' sizes, where the checkpoint has the head (a backbone alone leaves them to the task's own checks).
        yield return ("vocab_size", config.VocabSize, "lm_head.weight", 0);
        yield return ("classifier_proj_size", config.ClassifierProjSize, "projector.weight", 0);
        yield return ("id2label", config.Labels.Count, "classifier.weight", 0);
        for (int i = 0; i < Math.Min(config.NumHiddenLayers, storedLayers); i++)
            yield return ("intermediate_size", config.IntermediateSize, $"{Layers}{i}.feed_forward.intermediate_dense.weight", 0);
        for (int i = 0; i < config.ConvDim.Length; i++)
        {
            yield return ($"conv_dim[{i}]", config.ConvDim[i], $"{ConvLayers}{i}.conv.weight", 0);
            yield return ($"conv_kernel[{i}]", config.ConvKernel[i], $"{ConvLayers}{i}.conv.weight", 2);
        }
    }

    // How many consecutive indices from 0 are stored under prefix ("encoder.layers." -> 0, 1, ...).
    private static int CountIndexed(IEnumerable<string> names, string prefix)
    {
        var indices = new HashSet<int>();
        foreach (string name in names)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            int dot = name.IndexOf('.', prefix.Length);
            if (dot > prefix.Length && int.TryParse(name.AsSpan(prefix.Length, dot - prefix.Length), out int index) && index >= 0)
                indices.Add(index);
        }
        int count = 0;
        while (indices.Contains(count))
            count++;
        return count;
    }

    /// <summary>
    /// Re-runs the forward pass of <paramref name="inputValues"/> in evaluation mode, keeping every stage's output, and
    /// returns the parameter-name prefixes of the first stage whose output holds a non-finite value (the stage's
    /// modules), or null when every stage is finite. Meant for after a non-finite output was seen: it keeps all hidden
    /// states.
    /// </summary>
    internal string[]? FirstNonFiniteStage(Tensor inputValues, int[]? sampleLengths)
    {
        Wav2Vec2Output output = Forward(inputValues, new Wav2Vec2ForwardOptions
        {
            SampleLengths = sampleLengths, OutputHiddenStates = true, AllowPaddedGroupNorm = true,
        });
        bool stable = Config.DoStableLayerNorm;
        var stages = new List<(Tensor, string[])>
        {
            (output.ConvFeatures, ["feature_extractor."]),
            (output.ExtractFeatures, ["feature_projection.layer_norm."]),
            (output.HiddenStates[0], stable ? ["feature_projection.projection.", "encoder.pos_conv_embed."]
                : ["feature_projection.projection.", "encoder.pos_conv_embed.", "encoder.layer_norm."]),
        };
        for (int i = 0; i < Config.NumHiddenLayers; i++)
            stages.Add((output.HiddenStates[i + 1], stable && i == Config.NumHiddenLayers - 1 ? [$"{Layers}{i}.", "encoder.layer_norm."] : [$"{Layers}{i}."]));
        foreach (var (activation, modules) in stages)
            if (!TensorPrimitives.IsFiniteAll<float>(activation.Span))
                return modules;
        return null;
    }
}
