using Wav2Vec2.Audio;
using Wav2Vec2.IO;
using Wav2Vec2.Nn;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Models;

/// <summary>Reading and writing Hugging Face model directories (config.json + weights + preprocessor_config.json).</summary>
internal static class PretrainedDirectory
{
    /// <summary>Name of the backbone inside task models: the family, as Hugging Face prefixes it ("wav2vec2.", "hubert.").</summary>
    public static string BackboneName(Wav2Vec2Config config) => config.ModelType.Replace('-', '_');

    // Task-model checkpoints nest the backbone under the family's name; each head declares its own tensor prefixes.
    private static CheckpointLayout Layout(string family) => new(family + ".",
        [.. Wav2Vec2ForCtc.HeadTensorPrefixes, .. Wav2Vec2ForPreTraining.HeadTensorPrefixes, .. Wav2Vec2ForSequenceClassification.HeadTensorPrefixes]);

    private static string Family(Module module) => module switch
    {
        Wav2Vec2Model backbone => BackboneName(backbone.Config),
        Wav2Vec2TaskModel task => BackboneName(task.Config),
        _ => "wav2vec2",
    };

    /// <summary>
    /// The directory of a model named by its directory, a Hugging Face repo id (fetched through the hub cache with the
    /// environment's settings) or a fairseq .pt checkpoint (converted once into a cache): where every FromPretrained,
    /// summary and trainer turns a name into files.
    /// </summary>
    public static string Resolve(string nameOrDirectory) => FairseqCheckpoint.IsCheckpointFile(nameOrDirectory)
        ? FairseqCheckpoint.Resolve(nameOrDirectory) : ModelHub.Resolve(nameOrDirectory);

    /// <summary>
    /// Reads <paramref name="directory"/>/config.json and checks the sizes it declares against the shapes of the
    /// directory's checkpoint, so that no model is built from sizes the weights do not have.
    /// </summary>
    public static Wav2Vec2Config LoadConfig(string directory)
    {
        (Wav2Vec2Config config, ITensorSource weights) = Open(directory);
        weights.Dispose();
        return config;
    }

    /// <summary>
    /// Reads <paramref name="directory"/>/config.json, then opens its weights (the index only; the caller disposes
    /// them) and checks the config's sizes against the stored shapes.
    /// </summary>
    public static (Wav2Vec2Config Config, ITensorSource Weights) Open(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"model directory '{directory}' does not exist");
        string path = Path.Combine(directory, "config.json");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{directory}: no config.json (not a Hugging Face model directory)");
        Wav2Vec2Config config = Wav2Vec2Config.Load(path);
        ITensorSource weights = CheckpointLoader.OpenWeights(directory);
        try
        {
            Wav2Vec2Model.CheckSizes(config, weights, path);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
        return (config, weights);
    }

    /// <summary>
    /// Builds a model from the config.json of the directory or repo <paramref name="name"/> names with
    /// <paramref name="create"/>, loads its weights, reads preprocessor_config.json into its backbone, and leaves it in
    /// evaluation mode.
    /// </summary>
    public static T Load<T>(string name, bool strict, Func<Wav2Vec2Config, T> create, Func<T, Wav2Vec2Model> backbone,
        out LoadReport report) where T : Module
    {
        string directory = Resolve(name);
        (Wav2Vec2Config config, ITensorSource weights) = Open(directory);
        using var _ = weights;
        // Random initialisation is computed only for what the checkpoint does not hold (a new head): building a
        // 1B-parameter model eagerly costs more than loading it.
        using Init.DeferredInit deferred = Init.Defer();
        T model = create(config);
        if (config.WeightsPrecision != Precision.Float32)
            model.UsePrecision(config.WeightsPrecision);
        report = LoadWeights(model, weights, directory, strict);
        HashSet<string> missing = [.. report.Missing];
        deferred.Complete(model.NamedTensors().Where(t => missing.Contains(t.Name)).Select(t => t.Tensor));
        backbone(model).Preprocessor = InputValuesPreprocessor.Load(Path.Combine(directory, "preprocessor_config.json"));
        backbone(model).SourceDirectory = directory;
        model.Train(false);
        return model;
    }

    /// <summary>Restores a task model (every weight, strictly, and the input preparation) from one of its checkpoints.</summary>
    public static void Restore(Wav2Vec2TaskModel model, string directory)
    {
        LoadWeights(model, directory, strict: true);
        model.Preprocessor = InputValuesPreprocessor.Load(Path.Combine(directory, "preprocessor_config.json"));
    }

    /// <summary>Loads the directory's weights into <paramref name="module"/>.</summary>
    public static LoadReport LoadWeights(Module module, string directory, bool strict)
    {
        using ITensorSource weights = CheckpointLoader.OpenWeights(directory);
        return LoadWeights(module, weights, directory, strict);
    }

    private static LoadReport LoadWeights(Module module, ITensorSource weights, string directory, bool strict)
    {
        try
        {
            var int8 = module.Int8Weights().ToDictionary(w => w.Name, w => w.Weight, StringComparer.Ordinal);
            // A bf16 tensor is held as such only in a directory written in bf16 (a checkpoint merely stored in bf16
            // loads as fp32 and trains).
            var bf16 = module.Precision == Precision.BFloat16
                ? module.Bf16Weights().ToDictionary(w => w.Name, w => w.Weight, StringComparer.Ordinal) : [];
            LoadReport report = CheckpointLoader.Load(module.NamedTensors(), weights, Layout(Family(module)), strict,
                (name, values, scales) =>
                {
                    if (!int8.TryGetValue(name, out Int8WeightCache? weight))
                        return false;
                    weight.Hold(name, values, scales);
                    return true;
                },
                (name, read) =>
                {
                    if (!bf16.TryGetValue(name, out Bf16WeightCache? weight))
                        return false;
                    weight.Hold(name, read());
                    return true;
                });
            module.WeightsChanged();
            if (module.HeldPrecision is Precision held)
                module.UsePrecision(held);
            return report;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{directory}: {e.Message}");
        }
    }

    /// <summary>The file holding an MMS language's adapters and head: adapter.&lt;language&gt;.safetensors (or .bin).</summary>
    private static string AdapterFile(string directory, string language)
    {
        foreach (string extension in new[] { "safetensors", "bin" })
        {
            string path = Path.Combine(directory, $"adapter.{language}.{extension}");
            if (File.Exists(path))
                return path;
        }
        string[] languages = [.. Directory.EnumerateFiles(directory, "adapter.*.*").Select(f => Path.GetFileName(f).Split('.')[1]).Distinct().Order()];
        throw new InvalidDataException($"{directory}: no adapter for language '{language}' (adapter.{language}.safetensors); " +
            (languages.Length > 0 ? $"it has {string.Join(", ", languages.Take(8))}{(languages.Length > 8 ? $", ... ({languages.Length})" : "")}" : "it has none"));
    }

    private static ITensorSource OpenAdapter(string path) => path.EndsWith(".safetensors", StringComparison.Ordinal)
        ? new SafeTensorsSource(SafeTensorsFile.Open(path)) : TorchCheckpoint.Open(path);

    /// <summary>The CTC head's output count in a language's adapter file (lm_head.weight's rows).</summary>
    public static int AdapterVocabularySize(string directory, string language, int hiddenSize)
    {
        string path = AdapterFile(directory, language);
        using ITensorSource adapter = OpenAdapter(path);
        return adapter.Names.Contains("lm_head.weight") && adapter.Shape("lm_head.weight") is [int rows, int width] && width == hiddenSize
            ? rows : throw new InvalidDataException($"{path}: no lm_head.weight of width {hiddenSize} (not an adapter of this model)");
    }

    /// <summary>Loads a language's adapters and CTC head into <paramref name="model"/>; every other weight stays.</summary>
    public static void LoadAdapter(Wav2Vec2ForCtc model, string directory, string language)
    {
        string path = AdapterFile(directory, language);
        using ITensorSource adapter = OpenAdapter(path);
        var layout = new CheckpointLayout(BackboneName(model.Config) + ".", Wav2Vec2ForCtc.HeadTensorPrefixes);
        try
        {
            CheckpointLoader.Load(model.NamedTensors().Where(t => IsAdapterTensor(t.Name)), adapter, layout, strict: true);
            model.WeightsChanged();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}");
        }
    }

    /// <summary>An MMS language's tensors (its adapters and CTC head: what adapter.&lt;language&gt;.safetensors holds).</summary>
    public static bool IsAdapterTensor(string name) =>
        name.Contains(".adapter_layer.", StringComparison.Ordinal) || name.StartsWith("lm_head.", StringComparison.Ordinal);

    /// <summary>
    /// Writes config.json, model.safetensors and preprocessor_config.json into <paramref name="directory"/> (created if
    /// needed). Each file is written atomically. In <see cref="Precision.Int8"/> the linear layers' and multi-channel
    /// convolutions' weights are stored as int8 with their scales, in <see cref="Precision.BFloat16"/> the linear
    /// layers' weights as bf16 (an MMS model's adapters and head stay fp32, so that languages can still be switched),
    /// and config.json says so.
    /// </summary>
    /// <exception cref="HeldWeightsException">Another precision than the one the model holds its weights in alone.</exception>
    public static void Save(string directory, Module module, Wav2Vec2Config config, InputValuesPreprocessor preprocessor,
        string architecture, Precision precision)
    {
        if (module.HeldPrecision is Precision held && held != precision)
            throw new HeldWeightsException($"cannot save in {Precisions.Name(precision)}: the model holds weights in " +
                $"{Precisions.Name(held)} only (it was loaded from a {Precisions.Name(held)} directory); save the fp32 model instead");
        bool adapters = config.AdapterAttnDim != null;
        bool Stored(string name) => !(adapters && IsAdapterTensor(name));
        var int8 = precision == Precision.Int8
            ? module.Int8Weights().Where(w => Stored(w.Name)).ToDictionary(w => w.Name, w => w.Weight, StringComparer.Ordinal) : [];
        var bf16 = precision == Precision.BFloat16
            ? module.Bf16Weights().Where(w => Stored(w.Name)).ToDictionary(w => w.Name, w => w.Weight, StringComparer.Ordinal) : [];
        Directory.CreateDirectory(directory);
        config.Architectures = [architecture];
        config.WeightsPrecision = int8.Count > 0 || bf16.Count > 0 ? precision : Precision.Float32;
        CheckpointLoader.SaveWeights(module.NamedTensors().SelectMany(t =>
            int8.TryGetValue(t.Name, out Int8WeightCache? quantised) ? Int8Tensors(t.Name, t.Tensor, quantised)
            : bf16.TryGetValue(t.Name, out Bf16WeightCache? narrowed) ? [StoredTensor.BFloat16(t.Name, narrowed.Stored(), t.Tensor.ShapeArray)]
            : [StoredTensor.Float32(t.Name, t.Tensor)]), directory);
        AtomicFile.WriteText(Path.Combine(directory, "config.json"), config.ToJson());
        AtomicFile.WriteText(Path.Combine(directory, "preprocessor_config.json"), preprocessor.ToJson());
    }

    private static StoredTensor[] Int8Tensors(string name, Tensor weight, Int8WeightCache int8)
    {
        (sbyte[] values, float[] scales) = int8.Stored();
        return [StoredTensor.Int8(name, values, weight.ShapeArray),
            StoredTensor.Float32(name + CheckpointLoader.ScaleSuffix, Tensor.FromArray(scales, int8.ScaleShape))];
    }
}
