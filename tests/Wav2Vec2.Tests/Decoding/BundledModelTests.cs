using Wav2Vec2.Decoding;
using Wav2Vec2.Inference;

namespace Wav2Vec2.Tests.Decoding;

/// <summary>The README's main job: the bundled tiny English recognizer transcribes the bundled recording.</summary>
[TestClass]
public sealed class BundledModelTests
{
    private const string Reference = "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG SPEECH REPRESENTATIONS ARE LEARNED FROM RAW AUDIO";

    [TestMethod]
    public void TheBundledModelTranscribesTheBundledRecording()
    {
        var recognizer = SpeechRecognizer.FromPretrained(ExamplesPath("models", "tiny-en"));
        string transcript = recognizer.Transcribe(ExamplesPath("data", "speech.wav"));
        // What the README's first command prints: the low-resource experiment's pre-trained leg, a weak recognizer
        // (33.3 % CER on this clip, as its model card says).
        Assert.AreEqual("THETWIK BRORN FAKS JMP SOVER THE LASI VAUG SPECHREPRESENTATIONS L LOAND FROM RODE A", transcript);
        Assert.AreEqual(0.333, EditCounts.Characters(Reference, transcript).Rate, 5e-4);
    }
}
