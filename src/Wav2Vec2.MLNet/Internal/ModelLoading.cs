using Microsoft.ML.Runtime;
using Wav2Vec2.IO;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>Loads models from Hugging Face directories, saying what was loaded in mlContext.Log.</summary>
internal static class ModelLoading
{
    public static Wav2Vec2Model Backbone(IHostEnvironment? environment, string directory)
    {
        var model = Wav2Vec2Model.FromPretrained(directory, strict: true, out LoadReport report);
        Report(environment, "Wav2Vec2Features", directory, model.Config, report);
        return model;
    }

    public static Wav2Vec2ForCtc Ctc(IHostEnvironment? environment, string directory)
    {
        var model = Wav2Vec2ForCtc.FromPretrained(directory, strict: true, out LoadReport report);
        Report(environment, "Wav2Vec2Transcribe", directory, model.Config, report);
        return model;
    }

    private static void Report(IHostEnvironment? environment, string channel, string directory, Wav2Vec2Config config,
        LoadReport report) =>
        MLNetInterop.Info(environment, channel, $"loaded {directory}: {config.NumHiddenLayers} layers, hidden size " +
            $"{config.HiddenSize}" + (report.Ignored.Count > 0 ? $", {report.Ignored.Count} head tensors ignored" : ""));
}
