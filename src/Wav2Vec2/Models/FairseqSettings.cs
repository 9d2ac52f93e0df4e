using System.Globalization;
using Wav2Vec2.IO;

namespace Wav2Vec2.Models;

/// <summary>
/// A fairseq checkpoint's configuration read as a <see cref="Wav2Vec2Config"/>: the architecture from the pre-training
/// model section (cfg.model for a pre-trained checkpoint, cfg.model.w2v_args.model for a fine-tuned one; args and
/// args.w2v_args in legacy files), the regularisation a fine-tuning run overrode from its own model section, and the
/// input normalisation from the task. A field of the wrong type or an architecture this library does not build is
/// refused in one line naming the file and the key.
/// </summary>
internal sealed class FairseqSettings
{
    private readonly string _path;
    private readonly Section _architecture;
    private readonly Section? _fineTuning;
    private readonly bool _normalize;

    public FairseqSettings(FairseqCheckpointFile file)
    {
        _path = file.Path;
        string prefix = file.ConfigName;
        var model = new Section(Child(file.Config, "model") ?? throw Missing($"{prefix}.model"), prefix == "args" ? "args" : "cfg.model", _path);
        var task = new Section(Child(file.Config, "task") ?? [], prefix == "args" ? "args" : "cfg.task", _path);
        string? name = model.Text("_name", null);
        switch (name)
        {
            case "wav2vec2":
                _architecture = model;
                _normalize = task.Flag("normalize", false);
                break;
            case "wav2vec_ctc":
                string w2vKey = model.Key("w2v_args");
                Dictionary<string, object?> w2v = Child(model.Values, "w2v_args") ?? throw new InvalidDataException(
                    $"{_path}: {w2vKey} is empty: the checkpoint does not hold its pre-training configuration (fairseq reads it " +
                    $"from w2v_path '{model.Text("w2v_path", "?")}'), so its architecture is unknown");
                bool legacy = prefix == "args";
                _architecture = new Section(Child(w2v, "model") ?? throw Missing($"{w2vKey}.model"), legacy ? w2vKey : $"{w2vKey}.model", _path);
                var pretrainingTask = new Section(Child(w2v, "task") ?? [], legacy ? w2vKey : $"{w2vKey}.task", _path);
                _fineTuning = model;
                _normalize = task.Values.ContainsKey("normalize") ? task.Flag("normalize", false) : pretrainingTask.Flag("normalize", false);
                if (_architecture.Text("_name", "wav2vec2") != "wav2vec2")
                    throw new InvalidDataException($"{_path}: {_architecture.Key("_name")} is '{_architecture.Text("_name", "")}': only wav2vec 2.0 backbones are read");
                break;
            default:
                throw new InvalidDataException($"{_path}: {model.Key(prefix == "args" ? "arch" : "_name")} is '{name}': only fairseq wav2vec 2.0 " +
                    "checkpoints are read (wav2vec2 pre-trained, wav2vec_ctc fine-tuned)");
        }
    }

    /// <summary>True for a CTC fine-tuned checkpoint (wav2vec_ctc).</summary>
    public bool FineTuned => _fineTuning != null;

    /// <summary>The task's normalize: whether the model was trained on zero-mean, unit-variance input.</summary>
    public bool Normalize => _normalize;

    public Wav2Vec2Config ToConfig()
    {
        Section a = _architecture;
        a.Require("activation_fn", "gelu");
        a.Require("layer_type", "transformer");
        a.Require("pos_conv_depth", 1L);
        a.Require("quantize_input", false);
        a.Require("target_glu", false);
        string mode = a.Text("extractor_mode", null) ?? "default";
        if (mode is not ("default" or "layer_norm"))
            throw a.Bad("extractor_mode", $"is '{mode}', not default or layer_norm");
        (int[] dims, int[] kernels, int[] strides) = ConvLayers(a);
        int hidden = a.Int("encoder_embed_dim");
        int finalDim = a.Int("final_dim", 0) is > 0 and int f ? f : hidden;
        var config = new Wav2Vec2Config
        {
            ModelType = "wav2vec2",
            FeatExtractNorm = mode == "layer_norm" ? FeatureEncoderNorm.Layer : FeatureEncoderNorm.Group,
            ConvDim = dims, ConvKernel = kernels, ConvStride = strides,
            ConvBias = a.Flag("conv_bias", false),
            HiddenSize = hidden,
            NumHiddenLayers = a.Int("encoder_layers"),
            NumAttentionHeads = a.Int("encoder_attention_heads"),
            IntermediateSize = a.Int("encoder_ffn_embed_dim"),
            DoStableLayerNorm = a.Flag("layer_norm_first", false),
            NumConvPosEmbeddings = a.Int("conv_pos", 128),
            NumConvPosEmbeddingGroups = a.Int("conv_pos_groups", 16),
            NumCodevectorsPerGroup = a.Int("latent_vars", 320),
            NumCodevectorGroups = a.Int("latent_groups", 2),
            CodevectorDim = a.Int("latent_dim", 0) is > 0 and int d ? d : finalDim,
            ProjCodevectorDim = finalDim,
            NumNegatives = a.Int("num_negatives", 100),
            ContrastiveLogitsTemperature = a.Number("logit_temp", 0.1f),
            FeatProjDropout = a.Number("dropout_input", 0f),
            FeatQuantizerDropout = a.Number("dropout_features", 0f),
            PadTokenId = 0, BosTokenId = 1, EosTokenId = 2,
        };
        // Regularisation: the fine-tuning run's overrides win over the pre-training values (fairseq's arg_overrides).
        Section r = _fineTuning ?? a;
        config.HiddenDropout = r.Number("dropout", a.Number("dropout", 0.1f));
        config.AttentionDropout = r.Number("attention_dropout", a.Number("attention_dropout", 0.1f));
        config.ActivationDropout = r.Number("activation_dropout", a.Number("activation_dropout", 0f));
        config.LayerDrop = _fineTuning?.Number("layerdrop", 0f) ?? a.Number("encoder_layerdrop", 0f);
        config.MaskTimeProb = r.Number("mask_prob", a.Number("mask_prob", 0.65f));
        config.MaskTimeLength = r.Int("mask_length", a.Int("mask_length", 10));
        config.MaskFeatureProb = r.Number("mask_channel_prob", a.Number("mask_channel_prob", 0f));
        config.MaskFeatureLength = r.Int("mask_channel_length", a.Int("mask_channel_length", 10));
        if (_fineTuning != null)
        {
            config.FinalDropout = _fineTuning.Number("final_dropout", 0f);
            config.ApplySpecAugment = _fineTuning.Flag("apply_mask", true);
        }
        return config;
    }

    // conv_feature_layers: a Python expression of (dim, kernel, stride) tuples, e.g. "[(512, 10, 5)] + [(512, 3, 2)] * 4".
    private static (int[] Dims, int[] Kernels, int[] Strides) ConvLayers(Section a)
    {
        string text = a.Text("conv_feature_layers", null) ?? throw a.Bad("conv_feature_layers", "is missing");
        try
        {
            return ParseConvLayers(text);
        }
        catch (FormatException e)
        {
            throw a.Bad("conv_feature_layers", $"'{RestrictedUnpickler.Printable(text)}' cannot be read ({e.Message})");
        }
    }

    /// <summary>The (dim, kernel, stride) triples of a conv_feature_layers expression.</summary>
    /// <exception cref="FormatException">Not such an expression.</exception>
    internal static (int[] Dims, int[] Kernels, int[] Strides) ParseConvLayers(string text)
    {
        List<(int, int, int)> layers = new ConvLayerExpression(text).Parse();
        return ([.. layers.Select(l => l.Item1)], [.. layers.Select(l => l.Item2)], [.. layers.Select(l => l.Item3)]);
    }

    private static Dictionary<string, object?>? Child(IReadOnlyDictionary<string, object?> values, string key) =>
        values.GetValueOrDefault(key) as Dictionary<string, object?>;

    private InvalidDataException Missing(string key) => new($"{_path}: {key} is missing (not a fairseq checkpoint of a known layout)");

    /// <summary>One configuration section with typed reads whose errors name the file and the key.</summary>
    private sealed class Section(Dictionary<string, object?> values, string name, string path)
    {
        public Dictionary<string, object?> Values => values;

        public string Key(string field) => $"{name}.{field}";

        public InvalidDataException Bad(string field, string problem) => new($"{path}: {Key(field)} {problem}");

        public string? Text(string field, string? fallback) => values.GetValueOrDefault(field) switch
        {
            null => fallback,
            string s => s,
            var other => throw Bad(field, $"must be text, got {Describe(other)}"),
        };

        public bool Flag(string field, bool fallback) => values.GetValueOrDefault(field) switch
        {
            null => fallback,
            bool b => b,
            var other => throw Bad(field, $"must be true or false, got {Describe(other)}"),
        };

        public int Int(string field, int? fallback = null) => values.GetValueOrDefault(field) switch
        {
            null => fallback ?? throw Bad(field, "is missing"),
            long v when v is >= 0 and <= int.MaxValue => (int)v,
            var other => throw Bad(field, $"must be a non-negative integer, got {Describe(other)}"),
        };

        public float Number(string field, float fallback) => values.GetValueOrDefault(field) switch
        {
            null => fallback,
            double d => (float)d,
            long l => l,
            var other => throw Bad(field, $"must be a number, got {Describe(other)}"),
        };

        // A field the library supports one value of (a missing field has fairseq's default, that value).
        public void Require(string field, object supported)
        {
            object? value = values.GetValueOrDefault(field);
            if (value != null && !value.Equals(supported))
                throw Bad(field, $"is {Describe(value)}: only {Describe(supported)} is supported");
        }

        private static string Describe(object value) => value switch
        {
            string s => $"'{RestrictedUnpickler.Printable(s)}'",
            bool b => b ? "true" : "false",
            long or double => System.Convert.ToString(value, CultureInfo.InvariantCulture)!,
            _ => "a structure",
        };
    }

    /// <summary>A reader for conv_feature_layers: lists of integer triples joined by + and repeated by * n.</summary>
    private sealed class ConvLayerExpression(string text)
    {
        private int _at;

        public List<(int, int, int)> Parse()
        {
            var layers = new List<(int, int, int)>();
            do
            {
                List<(int, int, int)> list = List();
                if (Accept('*'))
                {
                    int times = Integer();
                    layers.AddRange(Enumerable.Repeat(list, times).SelectMany(l => l));
                }
                else
                    layers.AddRange(list);
                if (layers.Count > 1000)
                    throw new FormatException("more than 1000 layers");
            }
            while (Accept('+'));
            Skip();
            if (_at != text.Length || layers.Count == 0)
                throw new FormatException(layers.Count == 0 ? "no layers" : $"unexpected '{text[_at]}' at {_at}");
            return layers;
        }

        private List<(int, int, int)> List()
        {
            Expect('[');
            var list = new List<(int, int, int)>();
            while (!Accept(']'))
            {
                Expect('(');
                int dim = Integer();
                Expect(',');
                int kernel = Integer();
                Expect(',');
                int stride = Integer();
                Accept(',');
                Expect(')');
                list.Add((dim, kernel, stride));
                if (!Accept(','))
                {
                    Expect(']');
                    break;
                }
            }
            return list;
        }

        private int Integer()
        {
            Skip();
            int start = _at;
            while (_at < text.Length && char.IsAsciiDigit(text[_at]))
                _at++;
            return int.TryParse(text.AsSpan(start, _at - start), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
                ? value : throw new FormatException($"expected a positive integer at {start}");
        }

        private bool Accept(char c)
        {
            Skip();
            if (_at < text.Length && text[_at] == c)
            {
                _at++;
                return true;
            }
            return false;
        }

        private void Expect(char c)
        {
            if (!Accept(c))
                throw new FormatException($"expected '{c}' at {_at}");
        }

        private void Skip()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at]))
                _at++;
        }
    }
}
