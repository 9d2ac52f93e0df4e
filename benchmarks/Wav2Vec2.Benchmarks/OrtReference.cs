using Microsoft.ML.OnnxRuntime;
using Wav2Vec2.Models;

namespace Wav2Vec2.Benchmarks;

/// <summary>
/// ONNX Runtime as the inference bar (`forward --reference-ort`): our randomly initialised model exported to ONNX, by
/// our own exporter (Wav2Vec2.Onnx; the default) or through torchaudio's wav2vec2_model and torch.onnx
/// (tools/export_onnx.py, Debian's PyTorch: the export a Python user would make), and run by ONNX Runtime's CPU
/// provider with every graph optimisation in this process. Exports are cached by a fingerprint of the weights under
/// $W2V2_ONNX_CACHE (default ~/.cache/wav2vec2-dotnet/onnx) and never committed.
/// </summary>
internal sealed class OrtReference : IDisposable
{
    private readonly InferenceSession _session;

    private OrtReference(string onnxPath, int threads)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
        };
        if (Environment.GetEnvironmentVariable("W2V2_ORT_PROFILE") is { Length: > 0 } prefix)
        {
            options.EnableProfiling = true;
            options.ProfileOutputPathPrefix = prefix;
        }
        _session = new InferenceSession(onnxPath, options);
    }

    /// <summary>
    /// A session on the ONNX export of <paramref name="model"/>'s weights (exported now if not cached), by our
    /// exporter or, with <paramref name="torchaudio"/>, by torchaudio and torch.onnx.
    /// </summary>
    public static OrtReference Create(Wav2Vec2Model model, int threads, bool torchaudio = false) =>
        new(torchaudio ? TorchaudioExport(model) : OurExport(model), threads);

    /// <summary>last_hidden_state (1, frames, hidden) of one recording.</summary>
    public float[] Run(float[] audio)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(audio, [1, audio.Length]);
        using var outputs = _session.Run(new RunOptions(), ["input_values"], [input], ["last_hidden_state"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("W2V2_ORT_PROFILE") is { Length: > 0 })
            Console.Error.WriteLine($"ONNX Runtime profile: {_session.EndProfiling()}");
        _session.Dispose();
    }

    private static string CacheDirectory(Wav2Vec2Model model, string kind)
    {
        string cache = Environment.GetEnvironmentVariable("W2V2_ONNX_CACHE") is { Length: > 0 } configured ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "wav2vec2-dotnet", "onnx");
        return Path.Combine(cache, $"{kind}-{model.Config.HiddenSize}x{model.Config.NumHiddenLayers}-{Fingerprint(model):x16}");
    }

    private static string OurExport(Wav2Vec2Model model)
    {
        string onnx = Path.Combine(CacheDirectory(model, "ours"), "model.onnx");
        if (File.Exists(onnx))
            return onnx;
        Directory.CreateDirectory(Path.GetDirectoryName(onnx)!);
        Onnx.OnnxExporter.Export(model, onnx, new Onnx.OnnxExportOptions { AttentionMask = false });
        return onnx;
    }

    private static string TorchaudioExport(Wav2Vec2Model model)
    {
        string directory = CacheDirectory(model, "torchaudio");
        string onnx = Path.Combine(directory, "model.onnx");
        if (File.Exists(onnx))
            return onnx;
        Console.Error.WriteLine($"exporting the model to {onnx} (tools/export_onnx.py) ...");
        model.SavePretrained(directory);
        ReferenceRunner.RunPython(ReferenceRunner.FindScript(Path.Combine("tools", "export_onnx.py"), "W2V2_EXPORT_SCRIPT"),
            directory, onnx);
        File.Delete(Path.Combine(directory, "model.safetensors"));   // the .onnx holds the weights
        return onnx;
    }

    // FNV-style hash of every parameter's bits: a different initialisation gets a different export.
    private static ulong Fingerprint(Wav2Vec2Model model)
    {
        ulong hash = 14695981039346656037UL;
        foreach (Nn.Parameter parameter in model.Parameters())
            foreach (uint bits in System.Runtime.InteropServices.MemoryMarshal.Cast<float, uint>(parameter.Span))
                hash = (hash ^ bits) * 1099511628211UL;
        return hash;
    }
}
