using Microsoft.ML.Runtime;
using Wav2Vec2.IO;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>Loads models from Hugging Face directories or repo ids, saying what was fetched and loaded in mlContext.Log.</summary>
internal static class ModelLoading
{
    public static Wav2Vec2Model Backbone(IHostEnvironment? environment, string directory)
    {
        var model = Wav2Vec2Model.FromPretrained(Resolve(environment, "Wav2Vec2Features", directory), strict: true, out LoadReport report);
        Report(environment, "Wav2Vec2Features", directory, model.Config, report);
        return model;
    }

    /// <summary>A CTC model, switched to <paramref name="language"/> when given (MMS).</summary>
    public static Wav2Vec2ForCtc Ctc(IHostEnvironment? environment, string directory, string? language)
    {
        string resolved = Resolve(environment, "Wav2Vec2Transcribe", directory);
        var model = Wav2Vec2ForCtc.FromPretrained(resolved, strict: true, out LoadReport report);
        if (language != null)
            model.LoadAdapter(language);
        else if (CtcTokenizer.Languages(resolved) is { Count: > 0 } languages)
            throw new InvalidDataException($"{directory}: a multilingual model ({string.Join(", ", languages.Take(8))}" +
                $"{(languages.Count > 8 ? ", ..." : "")}): set Language");
        Report(environment, "Wav2Vec2Transcribe", directory, model.Config, report);
        return model;
    }

    /// <summary>The directory of a model directory or repo id (fetched through the hub cache with the HF_* environment
    /// settings), each downloaded file logged under <paramref name="channel"/> and its bytes on ML.NET's progress channel.</summary>
    public static string Resolve(IChannelProvider? environment, string channel, string nameOrDirectory)
    {
        if (Directory.Exists(nameOrDirectory))
            return nameOrDirectory;
        HubProgress? last = null;
        using IProgressChannel? progress = (environment as IProgressChannelProvider)?.StartProgressChannel(channel);
        progress?.SetHeader(new ProgressHeader(["bytes"], ["byte"]), entry =>
        {
            if (last is { } p)
                entry.SetProgress(0, p.BytesDone, p.TotalBytes);
        });
        return ModelHub.Resolve(nameOrDirectory, progress: new DownloadLog(environment, channel, p => last = p));
    }

    private static void Report(IHostEnvironment? environment, string channel, string directory, Wav2Vec2Config config,
        LoadReport report) =>
        MLNetInterop.Info(environment, channel, $"loaded {directory}: {config.NumHiddenLayers} layers, hidden size " +
            $"{config.HiddenSize}" + (report.Ignored.Count > 0 ? $", {report.Ignored.Count} head tensors ignored" : ""));

    // A line when a file's download starts and one when it is complete (not one per chunk).
    private sealed class DownloadLog(IChannelProvider? environment, string channel, Action<HubProgress> latest) : IProgress<HubProgress>
    {
        private string? _file;

        public void Report(HubProgress value)
        {
            latest(value);
            if (value.File != _file)
            {
                _file = value.File;
                MLNetInterop.Info(environment, channel, $"downloading {value.RepoId}/{value.File} ({value.TotalBytes:N0} bytes)");
            }
            if (value.BytesDone == value.TotalBytes)
                MLNetInterop.Info(environment, channel, $"downloaded {value.RepoId}/{value.File}");
        }
    }
}
