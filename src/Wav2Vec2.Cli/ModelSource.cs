using Wav2Vec2.IO;
using Wav2Vec2.Models;

namespace Wav2Vec2.Cli;

/// <summary>Turns --model and --init values (a directory, a Hugging Face repo id or a fairseq .pt) into model directories.</summary>
internal static class ModelSource
{
    /// <summary>
    /// The directory of <paramref name="nameOrDirectory"/>, fetched through the hub cache (settings from the HF_*
    /// environment variables) when it is a repo id; on a terminal, a download shows its progress on stderr.
    /// </summary>
    public static string Resolve(string nameOrDirectory, bool includeLanguageModel = false)
    {
        if (Directory.Exists(nameOrDirectory))
            return nameOrDirectory;
        if (FairseqCheckpoint.IsCheckpointFile(nameOrDirectory))
            return FairseqCheckpoint.Resolve(nameOrDirectory);
        var options = new HubOptions { IncludeLanguageModel = includeLanguageModel };
        return TerminalProgress.Run(report => ModelHub.Resolve(nameOrDirectory, options,
            new TerminalProgress.Sink<HubProgress>(p => report(new(p.File, p.BytesDone, p.TotalBytes)))), bytes: true);
    }
}
