// Feature extraction end to end: reads the bundled recording (22.05 kHz speech from espeak-ng), resamples it to
// 16 kHz, and extracts the hidden states of every layer of a wav2vec 2.0 model, printing shapes and timings.
// Usage: dotnet run -c Release --project examples/FeatureExtraction [MODEL_DIR] [AUDIO_FILE]
// Without MODEL_DIR a randomly initialised `base` model is used (no weights can be downloaded here); with a
// Hugging Face directory such as a downloaded facebook/wav2vec2-base-960h, its real representations are extracted.
using System.Diagnostics;
using Wav2Vec2.Audio;
using Wav2Vec2.Inference;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

string? modelDirectory = args.Length > 0 ? args[0] : null;
string audioPath = args.Length > 1 ? args[1] : Path.Combine(AppContext.BaseDirectory, "data", "speech.wav");

AudioClip audio = AudioFile.Read(audioPath);   // WAV or FLAC, any rate and channel count
Console.WriteLine($"audio: {audioPath}, {audio.Seconds:F2} s at {audio.SampleRate} Hz");

var clock = Stopwatch.StartNew();
Wav2Vec2Model model = modelDirectory != null
    ? Wav2Vec2Model.FromPretrained(modelDirectory, strict: true, out _)
    : new Wav2Vec2Model(Wav2Vec2Config.Base(), new RandomSource(seed: 0));
model.Train(false);
Console.WriteLine($"model: {modelDirectory ?? "random base"} ({model.ParameterCount():N0} parameters), ready in {clock.Elapsed.TotalSeconds:F2} s");

for (int layer = 0; layer <= model.Config.NumHiddenLayers; layer += Math.Max(1, model.Config.NumHiddenLayers / 4))
{
    clock.Restart();
    Tensor features = model.ExtractFeatures(audio, layer);
    double seconds = clock.Elapsed.TotalSeconds;
    float[] first = features.Span[..4].ToArray();
    Console.WriteLine($"layer {layer,2}: {features.Size(0)} frames x {features.Size(1)} in {seconds:F2} s " +
                      $"({audio.Seconds / seconds:F1}x real time), frame 0 starts [{string.Join(", ", first.Select(v => v.ToString("F3")))}]");
}
