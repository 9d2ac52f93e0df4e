using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Wav2Vec2.Audio;
using Wav2Vec2.IO;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>
/// fairseq's wav2vec 2.0 checkpoints (.pt): pre-trained (model wav2vec2: the backbone, quantizer and projections) and
/// CTC fine-tuned (wav2vec_ctc), as the original BASE/LARGE/XLS-R releases ship them, in either torch.save format and
/// with the configuration as an argparse Namespace, an omegaconf DictConfig or a plain dict. A checkpoint is converted
/// into a Hugging Face model directory (fairseq's tensor names mapped to Hugging Face's, its configuration to
/// config.json, its task's normalisation to preprocessor_config.json, its dictionary to vocab.json); every
/// FromPretrained, the command line's --model and ML.NET's model options take a .pt path and use a cached conversion.
/// </summary>
/// <example><code>
/// var asr = Wav2Vec2ForCtc.FromPretrained("wav2vec_small_960h.pt");          // dict.ltr.txt beside it
/// FairseqCheckpoint.ConvertToHuggingFace("xlsr_53_56k.pt", "xlsr-53");       // a directory transformers also loads
/// </code></example>
public static class FairseqCheckpoint
{
    // fairseq's Dictionary puts these first; <s> (0) is the CTC blank, which Hugging Face's conversion names <pad>.
    private static readonly string[] FairseqSpecials = ["<s>", "<pad>", "</s>", "<unk>"];
    private static readonly string[] HuggingFaceSpecials = ["<pad>", "<s>", "</s>", "<unk>"];

    /// <summary>True when <paramref name="name"/> is an existing .pt file (what FromPretrained converts).</summary>
    public static bool IsCheckpointFile(string name) => name.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) && File.Exists(name);

    /// <summary>
    /// Converts a fairseq wav2vec 2.0 checkpoint into a Hugging Face model directory (config.json, model.safetensors,
    /// preprocessor_config.json and, for a CTC model, vocab.json), written atomically file by file.
    /// </summary>
    /// <param name="checkpoint">The .pt file.</param>
    /// <param name="outputDirectory">The directory to write (created if needed).</param>
    /// <param name="dictionary">A CTC model's fairseq dictionary (dict.ltr.txt); by default the one the checkpoint stores
    /// (task_state), else dict.ltr.txt beside the checkpoint.</param>
    /// <exception cref="InvalidDataException">Not a fairseq wav2vec 2.0 checkpoint, an unsupported architecture or task,
    /// or no or a mismatching dictionary: one line naming the file and the configuration key.</exception>
    public static void ConvertToHuggingFace(string checkpoint, string outputDirectory, string? dictionary = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpoint);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        if (!File.Exists(checkpoint))
            throw new FileNotFoundException($"{checkpoint}: no such file");
        using FairseqCheckpointFile file = FairseqCheckpointFile.Open(checkpoint);
        Converted model = Convert(file, dictionary);
        model.Save(outputDirectory);
    }

    /// <summary>
    /// The Hugging Face directory of a converted checkpoint: converted on first use into
    /// <paramref name="cacheDirectory"/> (default: $XDG_CACHE_HOME or ~/.cache, then wav2vec2-dotnet/fairseq), and
    /// reused while the checkpoint and its dictionary are unchanged (same path, size and modification time).
    /// </summary>
    public static string Resolve(string checkpoint, string? dictionary = null, string? cacheDirectory = null)
    {
        string key = Fingerprint(checkpoint, dictionary, BesideDictionary(checkpoint));
        string root = cacheDirectory ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "wav2vec2-dotnet", "fairseq");
        string directory = Path.Combine(root, $"{Path.GetFileNameWithoutExtension(checkpoint)}-{key}");
        if (File.Exists(Path.Combine(directory, "config.json")))
            return directory;
        Directory.CreateDirectory(root);
        AtomicFile.RemoveStaleTemporaries(directory);
        string temporary = AtomicFile.TemporaryName(directory);
        try
        {
            ConvertToHuggingFace(checkpoint, temporary, dictionary);
            Directory.Move(temporary, directory);
        }
        catch (IOException) when (File.Exists(Path.Combine(directory, "config.json")))
        {
            Directory.Delete(temporary, recursive: true);                 // another process converted it meanwhile
        }
        catch
        {
            if (Directory.Exists(temporary))
                Directory.Delete(temporary, recursive: true);
            throw;
        }
        return directory;
    }

    // Path, size and modification time of the checkpoint and of the dictionaries that may be read, and this reader's version.
    private static string Fingerprint(string checkpoint, string? dictionary, string besideDictionary)
    {
        var text = new StringBuilder("fairseq-conversion-1");
        foreach (string? path in new[] { checkpoint, dictionary, besideDictionary })
        {
            if (path == null)
                continue;
            var info = new FileInfo(Path.GetFullPath(path));
            FileSystemInfo target = info.LinkTarget != null ? info.ResolveLinkTarget(returnFinalTarget: true) ?? info : info;
            text.Append('|').Append(info.FullName);
            if (target.Exists)
                text.Append('|').Append(((FileInfo)target).Length).Append('|').Append(target.LastWriteTimeUtc.Ticks);
        }
        return System.Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16].ToLowerInvariant();
    }

    /// <summary>A model built from a checkpoint, ready to save as a Hugging Face directory.</summary>
    private sealed record Converted(Module Model, Action<string> Save);

    private static Converted Convert(FairseqCheckpointFile file, string? dictionary)
    {
        var settings = new FairseqSettings(file);
        Wav2Vec2Config config = settings.ToConfig();
        var preprocessor = new InputValuesPreprocessor
        {
            DoNormalize = settings.Normalize,
            ReturnAttentionMask = config.FeatExtractNorm == FeatureEncoderNorm.Layer,
        };
        var weights = new RenamedTensorSource(file.Model, HuggingFaceName);   // disposed with the file
        if (settings.FineTuned)
        {
            CtcTokenizer tokenizer = Vocabulary(file, dictionary, weights);
            config.VocabSize = tokenizer.Count;
            config.Validate(file.Path);
            var ctc = new Wav2Vec2ForCtc(config, new RandomSource(0)) { Tokenizer = tokenizer, Preprocessor = preprocessor };
            Load(ctc, weights, file.Path);
            return new Converted(ctc, ctc.SavePretrained);
        }
        config.Validate(file.Path);
        if (weights.Names.Contains("quantizer.codevectors"))
        {
            var pretraining = new Wav2Vec2ForPreTraining(config, new RandomSource(0)) { Preprocessor = preprocessor };
            Load(pretraining, weights, file.Path);
            return new Converted(pretraining, pretraining.SavePretrained);
        }
        var backbone = new Wav2Vec2Model(config, new RandomSource(0)) { Preprocessor = preprocessor };
        Load(backbone, weights, file.Path);
        return new Converted(backbone, backbone.SavePretrained);
    }

    private static void Load(Module model, ITensorSource weights, string path)
    {
        try
        {
            CheckpointLoader.Load(model.NamedTensors(), weights, CheckpointLayout.Exact, strict: true);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}");
        }
    }

    /// <summary>
    /// The CTC vocabulary in Hugging Face's spelling: fairseq's ids, with ids 0 and 1 named &lt;pad&gt; (the blank) and
    /// &lt;s&gt; as Hugging Face's conversion names them; its size must be the projection's.
    /// </summary>
    private static CtcTokenizer Vocabulary(FairseqCheckpointFile file, string? dictionary, ITensorSource weights)
    {
        string beside = BesideDictionary(file.Path);
        (IReadOnlyList<string> symbols, string source) = dictionary != null ? (ReadDictionary(dictionary), dictionary)
            : file.DictionarySymbols is { } stored ? (stored, $"{file.Path} (task_state)")
            : File.Exists(beside) ? (ReadDictionary(beside), beside)
            : throw new InvalidDataException($"{file.Path}: no CTC dictionary: the checkpoint stores none and there is no dict.ltr.txt " +
                "beside it (give the fine-tuning dictionary: --dict, or the dictionary argument)");
        int outputs = weights.Names.Contains("lm_head.weight") ? weights.Shape("lm_head.weight")[0]
            : throw new InvalidDataException($"{file.Path}: a fine-tuned checkpoint without w2v_encoder.proj (the CTC projection)");
        if (symbols.Count != outputs)
            throw new InvalidDataException($"{source}: {symbols.Count} symbols with fairseq's 4 specials, but the checkpoint's " +
                $"w2v_encoder.proj has {outputs} outputs: the dictionary does not belong to this model");
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < symbols.Count; id++)
        {
            string token = id < HuggingFaceSpecials.Length && symbols[id] == FairseqSpecials[id] ? HuggingFaceSpecials[id] : symbols[id];
            if (!vocabulary.TryAdd(token, id))
                throw new InvalidDataException($"{source}: symbol '{token}' appears twice");
        }
        return new CtcTokenizer(vocabulary);
    }

    // The dictionary fairseq's fine-tuning leaves beside its checkpoints.
    private static string BesideDictionary(string checkpoint) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint))!, "dict.ltr.txt");

    /// <summary>
    /// A fairseq dictionary file: "&lt;symbol&gt; &lt;count&gt;" per line (an optional "#fairseq:overwrite" flag), ids
    /// after fairseq's four specials in file order.
    /// </summary>
    private static List<string> ReadDictionary(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such dictionary file");
        List<string> symbols = [.. FairseqSpecials];
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.TrimEnd();
            if (line.EndsWith(" #fairseq:overwrite", StringComparison.Ordinal))
                line = line[..^" #fairseq:overwrite".Length];
            int space = line.LastIndexOf(' ');
            if (space <= 0 || !long.TryParse(line.AsSpan(space + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                throw new InvalidDataException($"{path}:{number}: expected '<symbol> <count>', got '{RestrictedUnpickler.Printable(raw)}'");
            symbols.Add(line[..space]);
        }
        return symbols;
    }

    /// <summary>fairseq's tensor name as Hugging Face spells it (the inverse of torchaudio's import_fairseq_model map).</summary>
    internal static string HuggingFaceName(string name)
    {
        const string FineTuned = "w2v_encoder.w2v_model.";
        if (name.StartsWith(FineTuned, StringComparison.Ordinal))
            name = name[FineTuned.Length..];
        else if (name.StartsWith("w2v_encoder.proj.", StringComparison.Ordinal))
            return "lm_head." + name["w2v_encoder.proj.".Length..];
        foreach (var (pattern, replacement) in Renames)
            if (pattern.IsMatch(name))
                return pattern.Replace(name, replacement);
        return name;
    }

    // Head tensors keep their top-level names (quantizer., project_q., project_hid.); the backbone's go under wav2vec2.
    private static readonly (Regex Pattern, string Replacement)[] Renames =
    [
        (new(@"^quantizer\.vars$"), "quantizer.codevectors"),
        (new(@"^(quantizer\.weight_proj|project_q)\.(weight|bias)$"), "$1.$2"),
        (new(@"^final_proj\.(weight|bias)$"), "project_hid.$1"),
        (new(@"^mask_emb$"), "wav2vec2.masked_spec_embed"),
        (new(@"^layer_norm\.(weight|bias)$"), "wav2vec2.feature_projection.layer_norm.$1"),
        (new(@"^post_extract_proj\.(weight|bias)$"), "wav2vec2.feature_projection.projection.$1"),
        (new(@"^feature_extractor\.conv_layers\.(\d+)\.0\.(weight|bias)$"), "wav2vec2.feature_extractor.conv_layers.$1.conv.$2"),
        (new(@"^feature_extractor\.conv_layers\.(\d+)\.2(\.1)?\.(weight|bias)$"), "wav2vec2.feature_extractor.conv_layers.$1.layer_norm.$3"),
        (new(@"^encoder\.pos_conv\.0\.(bias|weight_g|weight_v)$"), "wav2vec2.encoder.pos_conv_embed.conv.$1"),
        (new(@"^encoder\.layer_norm\.(weight|bias)$"), "wav2vec2.encoder.layer_norm.$1"),
        (new(@"^encoder\.layers\.(\d+)\.self_attn\.(q|k|v|out)_proj\.(weight|bias)$"), "wav2vec2.encoder.layers.$1.attention.$2_proj.$3"),
        (new(@"^encoder\.layers\.(\d+)\.self_attn_layer_norm\.(weight|bias)$"), "wav2vec2.encoder.layers.$1.layer_norm.$2"),
        (new(@"^encoder\.layers\.(\d+)\.fc1\.(weight|bias)$"), "wav2vec2.encoder.layers.$1.feed_forward.intermediate_dense.$2"),
        (new(@"^encoder\.layers\.(\d+)\.fc2\.(weight|bias)$"), "wav2vec2.encoder.layers.$1.feed_forward.output_dense.$2"),
        (new(@"^encoder\.layers\.(\d+)\.final_layer_norm\.(weight|bias)$"), "wav2vec2.encoder.layers.$1.final_layer_norm.$2"),
    ];
}
