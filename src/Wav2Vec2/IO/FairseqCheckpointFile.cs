namespace Wav2Vec2.IO;

/// <summary>
/// The contents of a fairseq checkpoint (.pt, either torch.save format) as data: the <c>model</c> state dict under
/// fairseq's names, the configuration and, when the checkpoint carries one, the target dictionary's symbols. The
/// configuration is read from wherever fairseq kept it, as fairseq's own loader does: a legacy <c>args</c>
/// (argparse.Namespace, which wins when present) is reshaped into the <c>cfg</c> layout ({"model": ..., "task": ...},
/// also inside <c>w2v_args</c>); a <c>cfg</c> pickled as an omegaconf DictConfig is unwrapped into plain dictionaries;
/// a plain-dict <c>cfg</c> is taken as it is. Nothing in the pickle is executed: omegaconf's, argparse's, numpy's and
/// fairseq's classes are rebuilt as inert records and only their data is read.
/// </summary>
internal sealed class FairseqCheckpointFile : IDisposable
{
    private const int MaxDepth = 64;

    private FairseqCheckpointFile(string path, TorchCheckpoint model, Dictionary<string, object?> config, bool legacy, IReadOnlyList<string>? symbols)
    {
        Path = path;
        ConfigName = legacy ? "args" : "cfg";
        Model = model;
        Config = config;
        DictionarySymbols = symbols;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>The <c>model</c> state dict, fairseq's names.</summary>
    public ITensorSource Model { get; }

    /// <summary>Where the configuration was stored ("args" or "cfg"), for messages.</summary>
    public string ConfigName { get; }

    /// <summary>The configuration in fairseq's cfg layout: "model" (with "_name"), "task" (with "_name"), ...</summary>
    public IReadOnlyDictionary<string, object?> Config { get; }

    /// <summary>task_state's target dictionary (every symbol, the specials first), or null when not stored.</summary>
    public IReadOnlyList<string>? DictionarySymbols { get; }

    /// <summary>Opens a fairseq checkpoint and reads its configuration; tensor data is read on demand.</summary>
    /// <exception cref="InvalidDataException">Not a torch.save file, a pickle this reader refuses, or no model/configuration.</exception>
    public static FairseqCheckpointFile Open(string path)
    {
        TorchCheckpoint model = TorchCheckpoint.Open(path, IsDataClass, root =>
            root is PickleDict dict && dict.Get("model") is PickleDict state ? state
                : throw new InvalidDataException($"{path}: not a fairseq checkpoint (no 'model' state dict)"), out object root);
        try
        {
            var top = (PickleDict)root;
            bool legacy = top.Get("args") is PickleObject args && IsNamespace(args);
            Dictionary<string, object?> config = legacy
                ? FromArgs((PickleObject)top.Get("args")!, path)
                : Plain(top.Get("cfg"), path, 0) as Dictionary<string, object?>
                  ?? throw new InvalidDataException($"{path}: the checkpoint holds neither 'args' nor 'cfg' (no model configuration)");
            IReadOnlyList<string>? symbols = Plain(top.Get("task_state"), path, 0) is Dictionary<string, object?> task
                && task.GetValueOrDefault("target_dictionary") is Dictionary<string, object?> dictionary
                && dictionary.GetValueOrDefault("symbols") is List<object?> list && list.All(s => s is string)
                ? [.. list.Cast<string>()] : null;
            return new FairseqCheckpointFile(path, model, config, legacy, symbols);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();

    // Classes whose instances are kept as inert data. Anything else (os.system, builtins.eval, ...) is refused.
    private static bool IsDataClass(PickleGlobal g) => g.Module switch
    {
        "argparse" => g.Name == "Namespace",
        "typing" or "_codecs" => true,
        "collections" => g.Name is "defaultdict" or "OrderedDict",
        "__builtin__" or "builtins" => g.Name is "dict" or "list" or "tuple" or "set" or "frozenset" or "int" or "long"
            or "float" or "str" or "unicode" or "bool" or "bytes" or "object",
        _ => g.Module.StartsWith("omegaconf.", StringComparison.Ordinal) || g.Module.StartsWith("numpy", StringComparison.Ordinal)
            || g.Module.StartsWith("fairseq.", StringComparison.Ordinal),
    };

    private static bool IsNamespace(PickleObject o) => o.Type.FullName == "argparse.Namespace";

    // A flat fairseq Namespace as cfg: {"model": {..., "_name": arch}, "task": {..., "_name": task}}, the
    // pre-training Namespace in w2v_args likewise (fairseq's convert_namespace_to_omegaconf splits it by dataclass).
    private static Dictionary<string, object?> FromArgs(PickleObject args, string path)
    {
        var flat = Plain(args, path, 0) as Dictionary<string, object?> ?? [];
        var model = new Dictionary<string, object?>(flat) { ["_name"] = flat.GetValueOrDefault("arch") };
        var task = new Dictionary<string, object?>(flat) { ["_name"] = flat.GetValueOrDefault("task") };
        if (flat.GetValueOrDefault("w2v_args") is Dictionary<string, object?> inner)
        {
            var pretraining = new Dictionary<string, object?>(inner) { ["_name"] = inner.GetValueOrDefault("arch") };
            model["w2v_args"] = new Dictionary<string, object?>
            {
                ["model"] = pretraining,
                ["task"] = new Dictionary<string, object?>(inner) { ["_name"] = inner.GetValueOrDefault("task") },
            };
        }
        return new Dictionary<string, object?> { ["model"] = model, ["task"] = task };
    }

    /// <summary>
    /// A pickled value as plain data: dictionaries with string keys, lists, strings, numbers, booleans and null.
    /// omegaconf containers and nodes give their content, objects with a state dict (Namespace, fairseq's Dictionary)
    /// that dict; other objects (numpy scalars, class references) are null.
    /// </summary>
    private static object? Plain(object? value, string path, int depth)
    {
        if (depth > MaxDepth)
            throw new InvalidDataException($"{path}: the configuration is nested more than {MaxDepth} levels deep");
        switch (value)
        {
            case null or PickleNone:
                return null;
            case string or long or double or bool:
                return value;
            case PickleDict dict:
                var result = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (key, item) in dict.Items)
                    if (key is string name)
                        result[name] = Plain(item, path, depth + 1);
                return result;
            case List<object> list:
                return list.Select(item => Plain(item, path, depth + 1)).ToList();
            case object[] tuple:
                return tuple.Select(item => Plain(item, path, depth + 1)).ToList();
            case PickleObject { Type.Module: "omegaconf.dictconfig" or "omegaconf.listconfig", State: PickleDict state }:
                return Plain(state.Get("_content"), path, depth + 1);
            case PickleObject { Type.Module: "omegaconf.nodes", State: PickleDict state }:
                return Plain(state.Get("_val"), path, depth + 1);
            case PickleObject { State: PickleDict state } data when IsNamespace(data) || data.Type.Module.StartsWith("fairseq.", StringComparison.Ordinal):
                return Plain(state, path, depth + 1);
            default:
                return null;
        }
    }
}
