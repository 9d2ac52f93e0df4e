namespace Wav2Vec2.MLNet.Internal;

/// <summary>Reports on the working thread itself (Progress&lt;T&gt; would post to a synchronisation context, late).</summary>
internal sealed class ProgressSink<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
