using Wav2Vec2.Data;

namespace Wav2Vec2.Cli;

/// <summary>Opens the datasets the commands name; reading the headers of a large corpus shows progress on a terminal.</summary>
internal static class DatasetSource
{
    /// <summary>Labeled audio (<see cref="AudioDataset.OpenTranscribed"/>).</summary>
    public static AudioDataset Transcribed(string source) =>
        TerminalProgress.Run(report => AudioDataset.OpenTranscribed(source, Sink(source, report)), bytes: false);

    /// <summary>Audio for pre-training (<see cref="AudioDataset.Open"/>).</summary>
    public static AudioDataset Unlabeled(string source) =>
        TerminalProgress.Run(report => AudioDataset.Open(source, Sink(source, report)), bytes: false);

    private static TerminalProgress.Sink<DatasetScanProgress> Sink(string source, Action<TerminalProgress.Item> report) =>
        new(p => report(new($"reading {Path.GetFileName(Path.TrimEndingDirectorySeparator(source))}", p.Done, p.Total)));
}
