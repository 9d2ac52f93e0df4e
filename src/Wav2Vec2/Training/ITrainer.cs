namespace Wav2Vec2.Training;

/// <summary>What progress displays (the command line's progress bar, ML.NET's progress channel) need from a trainer.</summary>
public interface ITrainer
{
    /// <summary>Progress and warnings, one line each (console by default).</summary>
    Action<string> Log { get; set; }

    /// <summary>Called after every update with the number of completed updates.</summary>
    Action<int>? UpdateCompleted { get; set; }

    /// <summary>Where the run stands.</summary>
    TrainerState State { get; }

    /// <summary>The update the run stops at.</summary>
    int MaxUpdates { get; }
}
