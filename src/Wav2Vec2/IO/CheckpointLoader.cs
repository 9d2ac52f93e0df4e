using System.Text.Json;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.IO;

/// <summary>Loads and saves a module's parameters in Hugging Face's checkpoint formats.</summary>
internal static class CheckpointLoader
{
    /// <summary>
    /// The weight files a model directory may hold, in order of preference (transformers' order), and whether each is
    /// a shard index (<see cref="ShardFiles"/>).
    /// </summary>
    public static readonly (string File, bool Sharded)[] WeightFiles =
        [("model.safetensors", false), ("model.safetensors.index.json", true), ("pytorch_model.bin", false), ("pytorch_model.bin.index.json", true)];

    /// <summary>
    /// Opens the weights of a model directory: the first of <see cref="WeightFiles"/> it holds.
    /// </summary>
    public static ITensorSource OpenWeights(string directory)
    {
        foreach (var (file, sharded) in WeightFiles)
        {
            string path = System.IO.Path.Combine(directory, file);
            if (!File.Exists(path))
                continue;
            bool safetensors = file.StartsWith("model.safetensors", StringComparison.Ordinal);
            Func<string, ITensorSource> open = safetensors ? f => new SafeTensorsSource(SafeTensorsFile.Open(f)) : TorchCheckpoint.Open;
            return sharded ? OpenShards(directory, path, open) : open(path);
        }
        throw new FileNotFoundException(
            $"{directory}: no weights found (model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json)");
    }

    /// <summary>
    /// Copies stored tensors into <paramref name="parameters"/> (named, e.g. a module's NamedParameters()). Strict
    /// (default): every parameter must be stored with the right shape, and every stored tensor must be used or belong
    /// to a task head of <paramref name="layout"/> (reported as ignored). Non-strict: missing parameters keep their values and unknown tensors
    /// are ignored; both are reported. A shape mismatch always fails.
    /// </summary>
    /// <remarks>An int8 weight (dtype I8, with its scales stored as NAME_scale) goes to <paramref name="holdInt8"/>
    /// (name, values, scales); without one, or when it declines, it is an error. A bf16 tensor goes to
    /// <paramref name="holdBf16"/> (name, reader) when given, and is read as float32 when that declines it.</remarks>
    /// <exception cref="InvalidDataException">The listed names are missing, unexpected or of the wrong shape.</exception>
    public static LoadReport Load(IEnumerable<(string Name, Tensor Tensor)> parameters, ITensorSource source, CheckpointLayout layout,
        bool strict = true, Func<string, sbyte[], float[], bool>? holdInt8 = null, Func<string, Func<ushort[]>, bool>? holdBf16 = null)
    {
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);   // canonical -> stored spelling
        foreach (string name in source.Names)
            stored[CheckpointLayout.Canonical(name)] = name;
        var used = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        var wrongShape = new List<string>();
        foreach (var (name, parameter) in parameters)
        {
            string? match = layout.Candidates(name).FirstOrDefault(stored.ContainsKey);
            if (match == null)
            {
                missing.Add(name);
                continue;
            }
            used.Add(match);
            int[] shape = source.Shape(stored[match]);
            if (!SameElements(shape, parameter))
            {
                wrongShape.Add($"{name}: stored {Tensor.FormatShape(shape)}, model {parameter}");
                continue;
            }
            if (source.IsInt8(stored[match]))
            {
                string scales = match + ScaleSuffix;
                if (!stored.TryGetValue(scales, out string? storedScales))
                    throw new InvalidDataException($"{stored[match]} is stored in int8 without its scales ({scales})");
                used.Add(scales);
                if (holdInt8 == null || !holdInt8(name, source.ReadInt8(stored[match]), source.Read(storedScales).ToArray()))
                    throw new InvalidDataException($"{stored[match]} is stored in int8, which this model keeps in fp32");
                continue;
            }
            string storedName = stored[match];
            if (holdBf16 != null && source.IsBf16(storedName) && holdBf16(name, () => source.ReadBf16(storedName)))
                continue;
            source.ReadInto(storedName, parameter.Span);
        }
        var unused = stored.Keys.Where(k => !used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var unexpected = unused.Where(k => !layout.IsHeadTensor(k)).ToList();
        if (wrongShape.Count > 0)
            throw new InvalidDataException($"shape mismatch for {wrongShape.Count} tensor(s): {FirstFew(wrongShape, "; ")}");
        if (strict && missing.Count > 0)
            throw new InvalidDataException($"missing {missing.Count} tensor(s) in the checkpoint: {FirstFew(missing)}");
        if (strict && unexpected.Count > 0)
            throw new InvalidDataException($"unexpected {unexpected.Count} tensor(s) in the checkpoint: {FirstFew(unexpected)}");
        return new LoadReport(missing, unused);
    }

    /// <summary>The first few of <paramref name="names"/> and how many more there are: an error line stays short whatever
    /// the count (a config declaring 1000 layers misses 16,000 tensors).</summary>
    public static string FirstFew(IReadOnlyList<string> names, string separator = ", ", int shown = 5) =>
        string.Join(separator, names.Take(shown)) + (names.Count > shown ? $"{separator}... ({names.Count - shown} more)" : "");

    /// <summary>The suffix of an int8 weight's scales: W (I8) is stored with W_scale (float32).</summary>
    public const string ScaleSuffix = "_scale";

    /// <summary>Writes named tensors to <paramref name="directory"/>/model.safetensors (Hugging Face names), atomically.</summary>
    public static void SaveWeights(IEnumerable<StoredTensor> tensors, string directory)
    {
        Directory.CreateDirectory(directory);
        SafeTensorsWriter.Write(System.IO.Path.Combine(directory, "model.safetensors"), tensors,
            new Dictionary<string, string> { ["format"] = "pt" });
    }

    // Shapes must agree up to size-1 dimensions (e.g. a weight_g stored as (1, 1, K) or (K)).
    private static bool SameElements(int[] stored, Tensor parameter) =>
        stored.Where(d => d != 1).SequenceEqual(parameter.ShapeArray.Where(d => d != 1));

    /// <summary>The distinct shard files a shard index (<c>weight_map</c>) names.</summary>
    /// <exception cref="InvalidDataException">Not a valid shard index.</exception>
    public static IReadOnlyList<string> ShardFiles(string indexPath)
    {
        try
        {
            using JsonDocument index = JsonDocument.Parse(File.ReadAllText(indexPath));
            return index.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.GetString()!)
                .Distinct().ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{indexPath}: not a valid shard index ({e.Message})");
        }
    }

    private static ShardedSource OpenShards(string directory, string indexPath, Func<string, ITensorSource> open)
    {
        var shards = new List<ITensorSource>();
        try
        {
            foreach (string file in ShardFiles(indexPath))
            {
                string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, file));
                if (!full.StartsWith(System.IO.Path.GetFullPath(directory), StringComparison.Ordinal))
                    throw new InvalidDataException($"{indexPath}: shard '{file}' lies outside the model directory");
                shards.Add(open(full));
            }
            return new ShardedSource(shards);
        }
        catch
        {
            foreach (ITensorSource shard in shards)
                shard.Dispose();
            throw;
        }
    }
}
