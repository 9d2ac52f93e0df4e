// Quick start, the main job from C#: transcribe the bundled recording with the bundled speech recognizer, score the
// transcript against what was said, and take the hidden states of a middle layer as features.
// Usage: dotnet run -c Release --project examples/QuickStart [MODEL_DIR] [AUDIO_FILE]
// (default: examples/models/tiny-en and examples/data/speech.wav; pass a fine-tuned Hugging Face directory such as
// facebook/wav2vec2-base-960h for real transcripts).
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;
using Wav2Vec2.Tensors;

string examples = Path.Combine(AppContext.BaseDirectory, "examples");
string modelDirectory = args.Length > 0 ? args[0] : Path.Combine(examples, "models", "tiny-en");
string audioPath = args.Length > 1 ? args[1] : Path.Combine(examples, "data", "speech.wav");

const int layer = 2;   // hidden_states index: 0 is the Transformer's input, 4 the tiny model's last layer

AudioClip audio = AudioFile.Read(audioPath);                     // any rate and channel count
var recognizer = SpeechRecognizer.FromPretrained(modelDirectory);  // Wav2Vec2ForCTC + vocab.json, greedy decoding
string text = recognizer.Transcribe(audio);
Tensor features = recognizer.Model.Backbone.ExtractFeatures(audio, layer);

Console.WriteLine($"{audioPath} ({audio.Seconds:F1} s): {text}");

const string spoken = "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG SPEECH REPRESENTATIONS ARE LEARNED FROM RAW AUDIO";
if (args.Length < 2)
{
    TranscriptionResult scored = TranscriptionResult.Score("speech", spoken, text);
    Console.WriteLine($"character error rate {scored.Characters.Rate:P1}, word error rate {scored.Words.Rate:P1}");
}
Console.WriteLine($"layer {layer} features: {features.Size(0)} frames x {features.Size(1)}");
