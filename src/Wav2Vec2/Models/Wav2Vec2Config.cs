using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Wav2Vec2.Autograd;

namespace Wav2Vec2.Models;

/// <summary>How the conv feature encoder normalises (config.json's feat_extract_norm).</summary>
public enum FeatureEncoderNorm
{
    /// <summary>"group": group norm (one group per channel) after the first conv layer only (BASE).</summary>
    Group,
    /// <summary>"layer": layer norm over channels after every conv layer (LARGE-LV60, XLS-R).</summary>
    Layer,
}

/// <summary>
/// The architecture and regularisation settings of a wav2vec 2.0 model: Hugging Face's <c>Wav2Vec2Config</c>, read from
/// and written to config.json with its snake_case names (each property is declared once; System.Text.Json maps it).
/// Fields this class does not model are kept and written back unchanged. <see cref="Validate"/> rejects inconsistent
/// combinations with a message naming the field.
/// </summary>
public sealed class Wav2Vec2Config
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>The families this config describes (Hugging Face's model_type).</summary>
    internal static readonly string[] Families = ["wav2vec2", "hubert", "data2vec-audio", "wavlm"];

    /// <summary>
    /// The family, Hugging Face's model_type: "wav2vec2", "hubert", "data2vec-audio" or "wavlm". HuBERT is the same backbone with
    /// other pre-training targets: its feature projection may go without its layer norm (<see cref="FeatProjLayerNorm"/>)
    /// and its checkpoints name the backbone "hubert.". data2vec-audio has a layer-norm conv encoder and a positional
    /// embedding of <see cref="NumConvPosEmbeddings"/> plain grouped convolutions of width <see cref="ConvPosKernelSize"/>,
    /// each followed by a layer norm without parameters and GELU; its backbone is "data2vec_audio.". WavLM adds a gated
    /// relative position bias to every layer's attention scores (<see cref="NumBuckets"/>, <see cref="MaxBucketDistance"/>);
    /// its backbone is "wavlm.". Only wav2vec2 has a pre-training head here.
    /// </summary>
    public string ModelType { get; set; } = "wav2vec2";

    /// <summary>HuBERT's feat_proj_layer_norm: layer-normalise the conv features before the projection (wav2vec2 always does).</summary>
    public bool FeatProjLayerNorm { get; set; } = true;

    /// <summary>HuBERT's conv_pos_batch_norm (a batch norm before the positional convolution); not supported, refused when true.</summary>
    public bool ConvPosBatchNorm { get; set; }

    /// <summary>
    /// MMS's adapter_attn_dim: when set, every pre-LN Transformer layer ends with a language adapter of this width
    /// (<see cref="Wav2Vec2ForCtc.LoadAdapter"/> swaps them with the CTC head per language).
    /// </summary>
    public int? AdapterAttnDim { get; set; }

    /// <summary>WavLM's num_buckets: relative-offset buckets of the position bias (half per direction).</summary>
    public int NumBuckets { get; set; } = 320;

    /// <summary>WavLM's max_bucket_distance: offsets from here on share the last bucket.</summary>
    public int MaxBucketDistance { get; set; } = 800;

    /// <summary>Whether attention adds WavLM's gated relative position bias.</summary>
    internal bool GatedRelativePositionBias => ModelType == "wavlm";

    /// <summary>data2vec-audio's conv_pos_kernel_size: the width of each positional convolution.</summary>
    public int ConvPosKernelSize { get; set; } = 19;

    /// <summary>Whether the positional embedding is data2vec-audio's stack of plain convolutions.</summary>
    internal bool LayeredPositionalEmbedding => ModelType == "data2vec-audio";

    /// <summary>Whether the feature projection starts with a layer norm.</summary>
    internal bool ProjectionLayerNorm => ModelType != "hubert" || FeatProjLayerNorm;

    /// <summary>The family's class-name prefix in Hugging Face's architectures ("Wav2Vec2ForCTC", "HubertForCTC").</summary>
    internal string ClassPrefix => ModelType switch { "hubert" => "Hubert", "data2vec-audio" => "Data2VecAudio", "wavlm" => "WavLM", _ => "Wav2Vec2" };

    /// <summary>
    /// The model class the weights belong to (Hugging Face's architectures, e.g. ["Wav2Vec2ForCTC"]); written by
    /// SavePretrained so that transformers' Auto classes pick the right head.
    /// </summary>
    public string[]? Architectures { get; set; }

    /// <summary>Output classes of the CTC head (vocab.json size).</summary>
    public int VocabSize { get; set; } = 32;
    /// <summary>Transformer width.</summary>
    public int HiddenSize { get; set; } = 768;
    /// <summary>Transformer layers.</summary>
    public int NumHiddenLayers { get; set; } = 12;
    /// <summary>Attention heads per layer.</summary>
    public int NumAttentionHeads { get; set; } = 12;
    /// <summary>Feed-forward width.</summary>
    public int IntermediateSize { get; set; } = 3072;
    /// <summary>Feed-forward activation ("gelu" is supported).</summary>
    public string HiddenAct { get; set; } = "gelu";
    /// <summary>Dropout on residual branches.</summary>
    public float HiddenDropout { get; set; } = 0.1f;
    /// <summary>Dropout after the feed-forward activation.</summary>
    public float ActivationDropout { get; set; } = 0.1f;
    /// <summary>Dropout on attention probabilities.</summary>
    public float AttentionDropout { get; set; } = 0.1f;
    /// <summary>Dropout after the feature projection.</summary>
    public float FeatProjDropout { get; set; }
    /// <summary>Dropout on the features fed to the quantizer.</summary>
    public float FeatQuantizerDropout { get; set; }
    /// <summary>Dropout before the CTC head.</summary>
    public float FinalDropout { get; set; } = 0.1f;
    /// <summary>Probability of skipping a whole Transformer layer in training.</summary>
    [JsonPropertyName("layerdrop")]
    public float LayerDrop { get; set; } = 0.1f;
    /// <summary>Standard deviation of the normal initialisation of linear layers.</summary>
    public float InitializerRange { get; set; } = 0.02f;
    /// <summary>Epsilon of the encoder and feature-projection layer norms.</summary>
    public float LayerNormEps { get; set; } = 1e-5f;
    /// <summary>Normalisation of the conv feature encoder: group norm on the first layer (BASE) or layer norm on every layer (LARGE-LV60).</summary>
    public FeatureEncoderNorm FeatExtractNorm { get; set; } = FeatureEncoderNorm.Group;
    /// <summary>Activation of the conv feature encoder ("gelu").</summary>
    public string FeatExtractActivation { get; set; } = "gelu";
    /// <summary>Output channels of each conv layer.</summary>
    public int[] ConvDim { get; set; } = [512, 512, 512, 512, 512, 512, 512];
    /// <summary>Stride of each conv layer.</summary>
    public int[] ConvStride { get; set; } = [5, 2, 2, 2, 2, 2, 2];
    /// <summary>Kernel width of each conv layer.</summary>
    public int[] ConvKernel { get; set; } = [10, 3, 3, 3, 3, 2, 2];
    /// <summary>Whether conv layers have a bias.</summary>
    public bool ConvBias { get; set; }
    /// <summary>Kernel width of the convolutional positional embedding (an even width drops the last frame);
    /// data2vec-audio: the number of positional convolutions.</summary>
    public int NumConvPosEmbeddings { get; set; } = 128;
    /// <summary>Groups of the positional convolution.</summary>
    public int NumConvPosEmbeddingGroups { get; set; } = 16;
    /// <summary>Pre-LN ("stable layer norm") Transformer, as LARGE-LV60 and XLS-R.</summary>
    public bool DoStableLayerNorm { get; set; }
    /// <summary>Whether masking is applied in training.</summary>
    public bool ApplySpecAugment { get; set; } = true;
    /// <summary>Probability of a frame starting a masked span (fine-tuning; pre-training uses 0.65).</summary>
    public float MaskTimeProb { get; set; } = 0.05f;
    /// <summary>Length of a masked time span.</summary>
    public int MaskTimeLength { get; set; } = 10;
    /// <summary>Minimum number of masked spans.</summary>
    public int MaskTimeMinMasks { get; set; } = 2;
    /// <summary>Probability of masking feature channels.</summary>
    public float MaskFeatureProb { get; set; }
    /// <summary>Length of a masked feature span.</summary>
    public int MaskFeatureLength { get; set; } = 10;
    /// <summary>Minimum number of masked feature spans.</summary>
    public int MaskFeatureMinMasks { get; set; }
    /// <summary>Entries per quantizer codebook (V).</summary>
    public int NumCodevectorsPerGroup { get; set; } = 320;
    /// <summary>Quantizer codebooks (G).</summary>
    public int NumCodevectorGroups { get; set; } = 2;
    /// <summary>Temperature kappa of the contrastive logits.</summary>
    public float ContrastiveLogitsTemperature { get; set; } = 0.1f;
    /// <summary>Distractors per masked frame.</summary>
    public int NumNegatives { get; set; } = 100;
    /// <summary>Width of the concatenated codevectors.</summary>
    public int CodevectorDim { get; set; } = 256;
    /// <summary>Width of the projected quantized targets and context outputs.</summary>
    public int ProjCodevectorDim { get; set; } = 256;
    /// <summary>Weight of the codebook diversity loss.</summary>
    public float DiversityLossWeight { get; set; } = 0.1f;
    /// <summary>Reduction of the CTC loss over the batch ("sum" or "mean" in config.json).</summary>
    public Reduction CtcLossReduction { get; set; } = Reduction.Sum;
    /// <summary>Zero infinite CTC losses.</summary>
    public bool CtcZeroInfinity { get; set; }
    /// <summary>Id of the pad (CTC blank) token.</summary>
    public int PadTokenId { get; set; }
    /// <summary>Id of the beginning-of-sentence token.</summary>
    public int BosTokenId { get; set; } = 1;
    /// <summary>Id of the end-of-sentence token.</summary>
    public int EosTokenId { get; set; } = 2;
    /// <summary>Width of the sequence-classification projector (Hugging Face classifier_proj_size).</summary>
    public int ClassifierProjSize { get; set; } = 256;
    /// <summary>Classify from a learned softmax-weighted sum of every hidden state instead of the last (use_weighted_layer_sum).</summary>
    public bool UseWeightedLayerSum { get; set; }
    /// <summary>Class names by id as strings (Hugging Face id2label: {"0": "yes", "1": "no"}); null: LABEL_0 and LABEL_1.</summary>
    [JsonPropertyName("id2label"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Id2Label { get; set; }
    /// <summary>Class ids by name (Hugging Face label2id), the inverse of <see cref="Id2Label"/>.</summary>
    [JsonPropertyName("label2id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, int>? Label2Id { get; set; }

    /// <summary>The class names in id order (their count is Hugging Face's num_labels); LABEL_0 and LABEL_1 without id2label.</summary>
    /// <example><code>
    /// IReadOnlyList&lt;string&gt; classes = Wav2Vec2Config.Load("classifier/config.json").Labels;   // ["no", "yes"]
    /// </code></example>
    [JsonIgnore]
    public IReadOnlyList<string> Labels => Id2Label == null ? ["LABEL_0", "LABEL_1"]
        : Enumerable.Range(0, Id2Label.Count).Select(i => Id2Label[i.ToString(CultureInfo.InvariantCulture)]).ToArray();

    /// <summary>Sets id2label and label2id from class names in id order.</summary>
    /// <example><code>
    /// config.SetLabels(["no", "yes"]);   // id2label {"0": "no", "1": "yes"}, label2id {"no": 0, "yes": 1}
    /// </code></example>
    /// <exception cref="ArgumentException">No names, or a name given twice.</exception>
    public void SetLabels(IReadOnlyList<string> labels)
    {
        if (labels.Count == 0 || labels.Distinct().Count() != labels.Count)
            throw new ArgumentException($"class names must be distinct and at least one, got [{string.Join(", ", labels)}]", nameof(labels));
        Id2Label = labels.Select((name, i) => (name, i)).ToDictionary(p => p.i.ToString(CultureInfo.InvariantCulture), p => p.name);
        Label2Id = labels.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
    }

    /// <summary>Samples per output frame: the product of the conv strides (320 for BASE).</summary>
    [JsonIgnore]
    public int InputsToLogitsRatio => ConvStride.Aggregate(1, (a, b) => a * b);

    /// <summary>
    /// The precision the weights are stored in: <see cref="Nn.Precision.Int8"/> or <see cref="Nn.Precision.BFloat16"/>
    /// for a directory written by <c>SavePretrained(directory, precision)</c> (config.json's quantization_config), which
    /// loads as an inference model in that precision; otherwise Float32.
    /// </summary>
    [JsonIgnore]
    public Nn.Precision WeightsPrecision
    {
        get => QuantizationConfig?.Precision switch { "int8" => Nn.Precision.Int8, "bf16" => Nn.Precision.BFloat16, _ => Nn.Precision.Float32 };
        internal set => QuantizationConfig = value switch
        {
            Nn.Precision.Int8 => StoredQuantization.Int8,
            Nn.Precision.BFloat16 => StoredQuantization.BFloat16,
            _ => null,
        };
    }

    // Absent, not null, in an fp32 config.json: transformers reads a null quantization_config as a quantised model.
    [JsonInclude, JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    internal StoredQuantization? QuantizationConfig { get; private set; }

    /// <summary>Names in config.json that this class does not model (kept on save).</summary>
    [JsonIgnore]
    public IEnumerable<string> UnknownFields => Unknown?.Keys ?? Enumerable.Empty<string>();

    // config.json fields this class does not model, written back unchanged.
    [JsonExtensionData, JsonInclude]
    private Dictionary<string, JsonElement>? Unknown { get; set; }

    /// <summary>
    /// fairseq's wav2vec2_base_librispeech: the wav2vec2-base shape with its pre-training regularisation (dropout 0.1 on
    /// the input projection, the quantizer input, residuals and attention; no activation dropout; layer drop 0.05;
    /// spans of 10 frames started with probability 0.65, at least 2).
    /// </summary>
    public static Wav2Vec2Config Base() => new()
    {
        ActivationDropout = 0f, FeatProjDropout = 0.1f, FeatQuantizerDropout = 0.1f, LayerDrop = 0.05f, MaskTimeProb = 0.65f,
    };

    /// <summary>
    /// fairseq LARGE-LV60 (wav2vec2_large_librivox): layer-norm conv encoder with bias, pre-LN Transformer, 768-wide
    /// quantized targets, and no dropout or layer drop in pre-training.
    /// </summary>
    public static Wav2Vec2Config Large() => new()
    {
        HiddenDropout = 0f, AttentionDropout = 0f, ActivationDropout = 0f, FeatProjDropout = 0f, FeatQuantizerDropout = 0f,
        LayerDrop = 0f, MaskTimeProb = 0.65f,
        HiddenSize = 1024, NumHiddenLayers = 24, NumAttentionHeads = 16, IntermediateSize = 4096,
        FeatExtractNorm = FeatureEncoderNorm.Layer, ConvBias = true, DoStableLayerNorm = true, CodevectorDim = 768, ProjCodevectorDim = 768,
    };

    /// <summary>A small model for CPU pre-training experiments: 7 x 128 conv channels with BASE kernels, 4 x 256 Transformer.</summary>
    public static Wav2Vec2Config Tiny() => new()
    {
        ActivationDropout = 0f, FeatProjDropout = 0.1f, FeatQuantizerDropout = 0.1f, LayerDrop = 0.05f, MaskTimeProb = 0.65f,
        ConvDim = [128, 128, 128, 128, 128, 128, 128], HiddenSize = 256, NumHiddenLayers = 4, NumAttentionHeads = 4,
        IntermediateSize = 1024, NumConvPosEmbeddings = 64, NumConvPosEmbeddingGroups = 16, NumCodevectorGroups = 2,
        NumCodevectorsPerGroup = 100, CodevectorDim = 128, ProjCodevectorDim = 128, NumNegatives = 50,
    };

    /// <summary>The preset of that name: "base", "large" or "tiny".</summary>
    public static Wav2Vec2Config Preset(string name) => name switch
    {
        "base" => Base(),
        "large" => Large(),
        "tiny" => Tiny(),
        _ => throw new ArgumentException($"unknown preset '{name}' (base, large, tiny)"),
    };

    /// <summary>Reads and validates a config.json.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON, a field of the wrong type, or an invalid combination.</exception>
    public static Wav2Vec2Config FromJson(string json, string source = "config.json")
    {
        JsonObject raw;
        try
        {
            raw = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON ({e.Message})");
        }
        if (raw.TryGetPropertyValue("model_type", out JsonNode? modelType) && modelType?.GetValueKind() == JsonValueKind.String
            && !Families.Contains(modelType.GetValue<string>()))
            throw new InvalidDataException($"{source}: model_type is \"{modelType.GetValue<string>()}\", not a family this library " +
                $"reads ({string.Join(", ", Families)})");
        // A modelled field given as null keeps its default (Hugging Face writes null for some unset options).
        foreach (string name in raw.Where(p => p.Value is null).Select(p => p.Key).ToList())
            if (Modelled(name) != null)
                raw.Remove(name);
        if (modelType?.GetValue<string>() == "data2vec-audio")
            Data2VecAudioDefaults(raw);
        Wav2Vec2Config config;
        try
        {
            config = raw.Deserialize<Wav2Vec2Config>(JsonOptions)!;
        }
        catch (JsonException e)
        {
            string name = e.Path?.TrimStart('$', '.').Split('.', '[')[0] ?? "";
            string value = raw.TryGetPropertyValue(name, out JsonNode? node) ? node?.ToJsonString() ?? "null" : "?";
            Type? type = Modelled(name)?.PropertyType;
            throw new InvalidDataException(type is { IsEnum: true }
                ? $"{source}: {name} must be {string.Join(" or ", Enum.GetNames(type).Select(n => $"\"{JsonNamingPolicy.SnakeCaseLower.ConvertName(n)}\""))}, got {value}"
                : $"{source}: field '{name}' has an invalid value {value}");
        }
        config.Validate(source);
        return config;
    }

    /// <summary>Loads <paramref name="path"/> (a config.json).</summary>
    public static Wav2Vec2Config Load(string path) => FromJson(File.ReadAllText(path), path);

    /// <summary>config.json text: every modelled field plus the unknown ones read earlier, indented.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>A deep copy.</summary>
    public Wav2Vec2Config Clone() => FromJson(ToJson());

    private static JsonPropertyInfo? Modelled(string jsonName) =>
        JsonOptions.GetTypeInfo(typeof(Wav2Vec2Config)).Properties.FirstOrDefault(p => p.Name == jsonName);

    // Data2VecAudioConfig's defaults where they differ from Wav2Vec2Config's, and what its architecture fixes: a
    // layer-norm conv encoder and a post-LN Transformer (it has no feat_extract_norm or do_stable_layer_norm field).
    private static void Data2VecAudioDefaults(JsonObject raw)
    {
        raw.TryAdd("num_conv_pos_embeddings", 5);
        raw.TryAdd("num_conv_pos_embedding_groups", 16);
        raw["feat_extract_norm"] = "layer";
        raw["do_stable_layer_norm"] = false;
    }

    /// <summary>Checks that the fields describe a buildable model.</summary>
    /// <exception cref="InvalidDataException">The first problem found, naming the field.</exception>
    public void Validate(string source = "config")
    {
        void Fail(string field, string message) => throw new InvalidDataException($"{source}: {field} {message}");
        if (!Families.Contains(ModelType))
            Fail("model_type", $"is \"{ModelType}\", not one of {string.Join(", ", Families)}");
        if (QuantizationConfig is { } q && (q.QuantMethod != "w2v2" || q.Precision is not ("int8" or "bf16")))
            Fail("quantization_config", $"is quant_method \"{q.QuantMethod}\" precision \"{q.Precision}\": only this library's int8 " +
                "and bf16 models (quant_method \"w2v2\", precision \"int8\" or \"bf16\") are read");
        if (ConvPosBatchNorm)
            Fail("conv_pos_batch_norm", "is true: a batch norm before the positional convolution is not supported");
        if (ConvDim.Length == 0)
            Fail("conv_dim", "must name at least one conv layer");
        if (ConvStride.Length != ConvDim.Length || ConvKernel.Length != ConvDim.Length)
            Fail("conv_dim", $"conv_stride and conv_kernel must have the same length ({ConvDim.Length}, {ConvStride.Length}, {ConvKernel.Length})");
        if (ConvDim.Concat(ConvStride).Concat(ConvKernel).Any(v => v <= 0))
            Fail("conv_dim", "conv_stride and conv_kernel entries must be positive");
        foreach (var (name, value) in new[] { ("hidden_size", HiddenSize), ("num_hidden_layers", NumHiddenLayers),
            ("num_attention_heads", NumAttentionHeads), ("intermediate_size", IntermediateSize), ("vocab_size", VocabSize),
            ("num_conv_pos_embeddings", NumConvPosEmbeddings), ("num_conv_pos_embedding_groups", NumConvPosEmbeddingGroups),
            ("num_codevector_groups", NumCodevectorGroups), ("num_codevectors_per_group", NumCodevectorsPerGroup),
            ("codevector_dim", CodevectorDim), ("proj_codevector_dim", ProjCodevectorDim), ("mask_time_length", MaskTimeLength),
            ("classifier_proj_size", ClassifierProjSize) })
            if (value <= 0)
                Fail(name, $"must be positive, got {value}");
        if (HiddenSize % NumAttentionHeads != 0)
            Fail("hidden_size", $"({HiddenSize}) must be divisible by num_attention_heads ({NumAttentionHeads})");
        if (HiddenSize % NumConvPosEmbeddingGroups != 0)
            Fail("num_conv_pos_embedding_groups", $"({NumConvPosEmbeddingGroups}) must divide hidden_size ({HiddenSize})");
        if (CodevectorDim % NumCodevectorGroups != 0)
            Fail("codevector_dim", $"({CodevectorDim}) must be divisible by num_codevector_groups ({NumCodevectorGroups})");
        if (HiddenAct != "gelu")
            Fail("hidden_act", $"\"{HiddenAct}\" is not supported (gelu)");
        if (FeatExtractActivation != "gelu")
            Fail("feat_extract_activation", $"\"{FeatExtractActivation}\" is not supported (gelu)");
        if (LayerNormEps <= 0)
            Fail("layer_norm_eps", "must be positive");
        foreach (var (name, p) in new[] { ("hidden_dropout", HiddenDropout), ("activation_dropout", ActivationDropout),
            ("attention_dropout", AttentionDropout), ("feat_proj_dropout", FeatProjDropout), ("final_dropout", FinalDropout),
            ("feat_quantizer_dropout", FeatQuantizerDropout), ("layerdrop", LayerDrop), ("mask_time_prob", MaskTimeProb),
            ("mask_feature_prob", MaskFeatureProb) })
            if (p is < 0 or > 1 || float.IsNaN(p))
                Fail(name, $"must be in [0, 1], got {p.ToString(CultureInfo.InvariantCulture)}");
        if ((uint)PadTokenId >= (uint)VocabSize)
            Fail("pad_token_id", $"({PadTokenId}) must be a token id below vocab_size ({VocabSize})");
        if (Id2Label != null && (Id2Label.Count == 0 || Enumerable.Range(0, Id2Label.Count).Any(i => !Id2Label.ContainsKey(i.ToString(CultureInfo.InvariantCulture)))))
            Fail("id2label", $"must map the ids 0 to n - 1 to names, got keys [{string.Join(", ", Id2Label.Keys)}]");
        // WavLM's buckets: half per direction, exact below a quarter, logarithmic from there to max_bucket_distance.
        if (GatedRelativePositionBias && NumBuckets < 4)
            Fail("num_buckets", $"must be at least 4, got {NumBuckets}");
        if (GatedRelativePositionBias && MaxBucketDistance <= NumBuckets / 4)
            Fail("max_bucket_distance", $"({MaxBucketDistance}) must exceed a quarter of num_buckets ({NumBuckets})");
        if (Unknown?.TryGetValue("add_adapter", out JsonElement adapter) == true && adapter.ValueKind == JsonValueKind.True)
            Fail("add_adapter", "is not supported (adapter layers)");
    }
}

/// <summary>config.json's quantization_config of an int8 or bf16 model directory (what the stored weights mean).</summary>
internal sealed record StoredQuantization
{
    public string? QuantMethod { get; init; }
    public string? Precision { get; init; }
    public string? Scheme { get; init; }

    /// <summary>The one scheme written: linear layers and multi-channel convolutions as int8 with float32 scales.</summary>
    public static readonly StoredQuantization Int8 = new()
    {
        QuantMethod = "w2v2", Precision = "int8",
        Scheme = "W (I8) = W_scale * q per output channel (and convolution tap), q in [-127, 127]; activations quantised " +
                 "per row at run time; norms, biases, the first and the positional convolution stay float32",
    };

    /// <summary>The linear layers' weights as bfloat16; everything else float32.</summary>
    public static readonly StoredQuantization BFloat16 = new()
    {
        QuantMethod = "w2v2", Precision = "bf16",
        Scheme = "linear layers' weights (BF16) widened to float32 as they are multiplied; everything else float32",
    };
}
