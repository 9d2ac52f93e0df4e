using Onnx;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Onnx;

/// <summary>What an ONNX export contains besides the model's own outputs.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>
    /// The backbone's output: null for last_hidden_state; a hidden-state index (0 = the encoder's input, the layer
    /// count = the last) exports <c>hidden_state</c> of that layer and stops the graph there.
    /// </summary>
    public int? Layer { get; init; }

    /// <summary>Also output every hidden state (<c>hidden_states.0</c> ...), backbone exports only.</summary>
    public bool AllHiddenStates { get; init; }

    /// <summary>
    /// Add an <c>attention_mask</c> input (int64, 1 for real samples, 0 for padding), so that a batch of unequal lengths
    /// gives each utterance what it gives alone. Null: as the model's preprocessor_config.json says
    /// (return_attention_mask), which holds for layer-norm feature encoders; group-norm encoders normalise over the
    /// padding and have no correct mask, as in Hugging Face's models.
    /// </summary>
    public bool? AttentionMask { get; init; }

    /// <summary>
    /// Normalise <c>input_values</c> inside the graph (zero mean, unit variance per utterance over its valid samples,
    /// as the model's preprocessor does when do_normalize is set), so the input is plain 16 kHz audio: what ML.NET's
    /// LoadAudio transform gives. Default: false, the input is prepared by the caller.
    /// </summary>
    public bool NormalizeInput { get; init; }

    /// <summary>Weights above this many bytes go to an external-data file (tests lower it).</summary>
    internal long ExternalDataAbove { get; init; } = 1L << 30;
}

/// <summary>
/// Exports wav2vec 2.0 models (every family this library reads) to ONNX: opset 17, IR version 8, standard operators
/// only, dynamic batch and sample axes. Inputs: <c>input_values</c> (float, batch x samples, prepared as the model's
/// preprocessor prepares audio) and optionally <c>attention_mask</c>; outputs: the backbone's <c>last_hidden_state</c>
/// (or a chosen layer's), a CTC model's <c>logits</c> (batch x frames x vocabulary), a classifier's <c>logits</c>
/// (batch x classes). Files are written atomically; weights above 1 GB go to an external-data file beside the .onnx.
/// </summary>
/// <example><code>
/// var asr = Wav2Vec2ForCtc.FromPretrained("facebook/wav2vec2-base-960h");
/// OnnxExporter.Export(asr, "asr.onnx");
/// </code></example>
public static class OnnxExporter
{
    private static readonly string Version = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>Exports the backbone: last_hidden_state, or the hidden state(s) <paramref name="options"/> ask for.</summary>
    public static void Export(Wav2Vec2Model model, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new OnnxExportOptions();
        int layers = model.Config.NumHiddenLayers;
        if (options.Layer is int layer && (layer < 0 || layer > layers))
            throw new ArgumentOutOfRangeException(nameof(options), $"layer {layer} is out of range: this model has hidden states 0 to {layers}");
        var (graph, backbone, input, mask) = Start(model, options);
        List<string> states = backbone.Build(input, mask, options.AllHiddenStates ? layers : options.Layer ?? layers);
        if (options.Layer is int chosen)
            graph.Output(states[chosen], "hidden_state", "batch", "frames", model.Config.HiddenSize);
        else
            graph.Output(states[^1], "last_hidden_state", "batch", "frames", model.Config.HiddenSize);
        if (options.AllHiddenStates)
            for (int i = 0; i < states.Count; i++)
                graph.Output(states[i], $"hidden_states.{i}", "batch", "frames", model.Config.HiddenSize);
        graph.Save(path, Version, options.ExternalDataAbove);
    }

    /// <summary>Exports a CTC model: logits (batch, frames, vocabulary).</summary>
    public static void Export(Wav2Vec2ForCtc model, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options = Headless(options);
        var (graph, backbone, input, mask) = Start(model.Backbone, options);
        List<string> states = backbone.Build(input, mask, model.Config.NumHiddenLayers);
        var head = model.NamedTensors().Where(t => t.Name.StartsWith("lm_head.", StringComparison.Ordinal)).ToDictionary(t => t.Name, t => t.Tensor);
        graph.Output(backbone.Linear(states[^1], "lm_head", head), "logits", "batch", "frames", model.Config.VocabSize);
        graph.Save(path, Version, options.ExternalDataAbove);
    }

    /// <summary>
    /// Exports a sequence classifier: logits (batch, classes) from the projector, the mean over each utterance's valid
    /// frames (all frames without an attention mask) and the classifier; with use_weighted_layer_sum, the
    /// softmax(layer_weights)-weighted sum of every hidden state first.
    /// </summary>
    public static void Export(Wav2Vec2ForSequenceClassification model, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options = Headless(options);
        var (graph, backbone, input, mask) = Start(model.Backbone, options);
        List<string> states = backbone.Build(input, mask, model.Config.NumHiddenLayers);
        var head = model.NamedTensors().Where(t => !t.Name.Contains('.') || t.Name.StartsWith("projector.", StringComparison.Ordinal)
            || t.Name.StartsWith("classifier.", StringComparison.Ordinal)).ToDictionary(t => t.Name, t => t.Tensor);
        string hidden = states[^1];
        if (head.TryGetValue("layer_weights", out Tensor? layerWeights))
        {
            var weights = new float[layerWeights.Length];
            System.Numerics.Tensors.TensorPrimitives.SoftMax(layerWeights.Span, weights);
            hidden = graph.Node("Mul", [states[0], graph.Scalar(weights[0])]);
            for (int i = 1; i < states.Count; i++)
                hidden = graph.Node("Add", [hidden, graph.Node("Mul", [states[i], graph.Scalar(weights[i])])]);
        }
        string projected = backbone.Linear(hidden, "projector", head);                  // (B, T, P)
        string pooled;
        if (backbone.FrameMask is string valid)
        {
            string weights = graph.Node("Unsqueeze", [graph.Cast(valid, TensorProto.Types.DataType.Float), graph.Int64s(2)]);
            string sums = graph.Node("ReduceSum", [graph.Node("Mul", [projected, weights]), graph.Int64s(1)], null, ("keepdims", 0L));
            pooled = graph.Node("Div", [sums, graph.Node("ReduceSum", [weights, graph.Int64s(1)], null, ("keepdims", 0L))]);
        }
        else
            pooled = graph.Node("ReduceMean", [projected], null, ("axes", new long[] { 1 }), ("keepdims", 0L));
        graph.Output(backbone.Linear(pooled, "classifier", head), "logits", "batch", model.Config.Labels.Count);
        graph.Save(path, Version, options.ExternalDataAbove);
    }

    /// <summary>
    /// Exports the model in a directory (or repo id, or fairseq .pt): its CTC or classification head, or the backbone
    /// when it has neither or <paramref name="backboneOnly"/> is set. A pre-training head is not exported (its
    /// quantizer serves training only): the backbone is, when asked for.
    /// </summary>
    /// <exception cref="InvalidDataException">The directory holds a pre-training model and the backbone was not asked
    /// for, or its files are unreadable.</exception>
    public static void Export(string model, string path, OnnxExportOptions? options = null, bool backboneOnly = false)
    {
        ModelSummary summary = ModelSummary.Read(model);
        if (summary.Config.WeightsPrecision != Nn.Precision.Float32)
            throw HeldWeights(summary.Config.WeightsPrecision, model);
        if (backboneOnly || summary.Head == "none")
            Export(Wav2Vec2Model.FromPretrained(model, strict: false), path, options);
        else if (summary.Head == "CTC")
            Export(Wav2Vec2ForCtc.FromPretrained(model), path, options);
        else if (summary.Head == "sequence classification")
            Export(Wav2Vec2ForSequenceClassification.FromPretrained(model), path, options);
        else
            throw new InvalidDataException($"{model}: a {summary.Head} model has no ONNX export of its head (the quantizer and " +
                "contrastive projections serve pre-training only); export its backbone instead");
    }

    private static InvalidDataException HeldWeights(Nn.Precision precision, string model) =>
        new($"{model} holds its weights in {(precision == Nn.Precision.Int8 ? "int8" : "bf16")} only (w2v2 quantize wrote it): " +
            "export the fp32 model it came from");

    private static (OnnxGraph Graph, BackboneGraph Backbone, string Input, string? Mask) Start(Wav2Vec2Model model, OnnxExportOptions options)
    {
        if (model.HeldPrecision is Nn.Precision held)
            throw HeldWeights(held, "this model");
        var graph = new OnnxGraph();
        var backbone = new BackboneGraph(graph, model);
        string input = graph.Input("input_values", TensorProto.Types.DataType.Float, "batch", "samples");
        string? mask = options.AttentionMask ?? model.Preprocessor.ReturnAttentionMask
            ? graph.Input("attention_mask", TensorProto.Types.DataType.Int64, "batch", "samples") : null;
        if (options.NormalizeInput)
            input = backbone.NormalizeInput(input, mask);
        return (graph, backbone, input, mask);
    }

    private static OnnxExportOptions Headless(OnnxExportOptions? options) =>
        options is { Layer: not null } or { AllHiddenStates: true }
            ? throw new ArgumentException("Layer and AllHiddenStates apply to backbone exports; a head reads the last layer", nameof(options))
            : options ?? new OnnxExportOptions();
}
