using Wav2Vec2.Audio;
using Wav2Vec2.Autograd;
using Wav2Vec2.IO;
using Wav2Vec2.Kernels;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Tests.Support;

/// <summary>Shared helpers: random data, closeness assertions and the committed PyTorch fixtures.</summary>
internal static class TestSupport
{
    /// <summary>
    /// Every vector kernel path as a test-data row. Names, not KernelPath values: the enum is internal and test method
    /// parameters must be public types. Each path runs on every machine (emulated where the CPU lacks it).
    /// </summary>
    public static IEnumerable<object[]> VectorPaths() =>
        [[nameof(KernelPath.Avx512)], [nameof(KernelPath.Avx2)], [nameof(KernelPath.Vector128)]];

    /// <summary>
    /// The CTC model fixture of every family and layout with a torchaudio reference (tools/export_reference.py and the
    /// family exporters beside it) as test-data rows: a new family added here is checked by every parity test.
    /// </summary>
    public static IEnumerable<object[]> ParityFixtures() =>
        [["post_ln_group"], ["stable_layer"], ["hubert_post_ln"], ["hubert_stable"], ["data2vec_audio"], ["wavlm"], ["wavlm_stable"]];

    public static float[] RandomArray(int length, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return values;
    }

    public static Tensor RandomTensor(int seed, params int[] shape)
    {
        int length = 1;
        foreach (int dim in shape)
            length *= dim;
        return Tensor.FromArray(RandomArray(length, seed), shape);
    }

    /// <summary>Max |expected - actual| must be within tolerance * max(1, max |expected|).</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        float scale = 1f, worst = 0f;
        int worstIndex = -1;
        for (int i = 0; i < expected.Length; i++)
            scale = Math.Max(scale, Math.Abs(expected[i]));
        for (int i = 0; i < expected.Length; i++)
        {
            float error = Math.Abs(expected[i] - actual[i]);
            if (!(error <= worst))
            {
                worst = float.IsNaN(error) ? float.PositiveInfinity : error;
                worstIndex = i;
            }
        }
        Assert.IsTrue(worst <= tolerance * scale,
            $"{what}: max error {worst} at {worstIndex} (expected {(worstIndex >= 0 ? expected[worstIndex] : 0)}, " +
            $"got {(worstIndex >= 0 ? actual[worstIndex] : 0)}) exceeds {tolerance} x {scale}");
    }

    public static void AssertClose(Tensor expected, Tensor actual, float tolerance, string what)
    {
        CollectionAssert.AreEqual(expected.ShapeArray, actual.ShapeArray, $"{what}: shape");
        AssertClose(expected.Span, actual.Span, tolerance, what);
    }

    private static SafeTensorsFile? _engineFixture;

    /// <summary>tools/export_engine_reference.py's output (PyTorch values), opened once.</summary>
    public static SafeTensorsFile EngineFixture => _engineFixture ??=
        SafeTensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", "engine_reference.safetensors"));

    /// <summary>A fixture tensor as a fresh leaf that requires a gradient.</summary>
    public static Tensor Leaf(string name)
    {
        Tensor tensor = EngineFixture.Read(name);
        tensor.RequiresGrad = true;
        return tensor;
    }

    public static int[] Indices(string name) => EngineFixture.Read(name).ToArray().Select(v => (int)v).ToArray();

    /// <summary>Runs <paramref name="forward"/> on a tape and back-propagates gradient <paramref name="gout"/>.</summary>
    public static Tensor ForwardBackward(Func<Tensor> forward, Tensor gout)
    {
        using var tape = new Tape();
        Tensor output = forward();
        tape.Backward(output, gout);
        return output;
    }

    /// <summary>The examples folder of the checkout the tests were built from (the test binaries live below it).</summary>
    public static string ExamplesPath(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "examples", "models", "tiny-en")))
                return Path.Combine([dir.FullName, "examples", .. parts]);
        throw new AssertFailedException($"examples/models/tiny-en not found above {AppContext.BaseDirectory}");
    }

    /// <summary>A committed fixture file (tests/Wav2Vec2.Tests/Fixtures/...).</summary>
    public static string FixturePath(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>A 2-layer, 16-wide model with two conv layers: for shape, loading and CLI tests.</summary>
    public static Wav2Vec2Config TinyConfig() => new()
    {
        ConvDim = [16, 16], ConvKernel = [10, 3], ConvStride = [5, 2], HiddenSize = 16, NumHiddenLayers = 2,
        NumAttentionHeads = 2, IntermediateSize = 32, NumConvPosEmbeddings = 8, NumConvPosEmbeddingGroups = 4, VocabSize = 8,
    };

    /// <summary>A 2-layer, 64-wide model without dropout that pre-trains to high accuracy on seconds of audio.</summary>
    public static Wav2Vec2Config PreTrainableConfig() => new()
    {
        ConvDim = [32, 32, 32, 32], ConvKernel = [10, 3, 3, 2], ConvStride = [5, 2, 2, 2], HiddenSize = 64, NumHiddenLayers = 2,
        NumAttentionHeads = 4, IntermediateSize = 128, NumConvPosEmbeddings = 16, NumConvPosEmbeddingGroups = 4,
        NumCodevectorGroups = 2, NumCodevectorsPerGroup = 32, CodevectorDim = 32, ProjCodevectorDim = 32, NumNegatives = 20,
        MaskTimeProb = 0.65f, HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatProjDropout = 0,
        FeatQuantizerDropout = 0, LayerDrop = 0,
    };

    /// <summary>
    /// A LibriSpeech-style labeled corpus under <paramref name="root"/>: utterance i is <paramref name="audio"/>[i] (by
    /// default the one-second FLAC fixtures in turn) with transcript <paramref name="transcripts"/>[i]. Returns root.
    /// </summary>
    public static string TranscribedCorpus(string root, IReadOnlyList<string> transcripts, params string[] audio)
    {
        string[] clips = audio.Length > 0 ? audio : [FixturePath("flac", "speech16.flac"), FixturePath("flac", "stereo24.flac"), FixturePath("flac", "speech8.flac")];
        string chapter = Directory.CreateDirectory(Path.Combine(root, "1", "2")).FullName;
        var lines = new List<string>();
        for (int i = 0; i < transcripts.Count; i++)
        {
            string id = $"1-2-{i:D4}", clip = clips[i % clips.Length];
            File.Copy(clip, Path.Combine(chapter, id + Path.GetExtension(clip)));
            lines.Add($"{id} {transcripts[i]}");
        }
        File.WriteAllLines(Path.Combine(chapter, "1-2.trans.txt"), lines);
        return root;
    }

    /// <summary>
    /// Audio that spells <paramref name="text"/> in tones: every character is 40 ms of a sine whose pitch (1.5 to 6.8
    /// kHz, so that a short conv receptive field resolves it) depends on the character; a space is silence; 16 kHz.
    /// A CTC model learns to read it in a few hundred updates.
    /// </summary>
    public static AudioClip SpelledInTones(string text)
    {
        const int rate = 16000, perCharacter = rate * 4 / 100;
        var samples = new float[text.Length * perCharacter];
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == ' ')
                continue;
            double frequency = 1500 + 170 * (text[i] % 32);
            for (int n = 0; n < perCharacter; n++)
                samples[i * perCharacter + n] = (float)(0.5 * Math.Sin(2 * Math.PI * frequency * n / rate) * Math.Sin(Math.PI * n / perCharacter));
        }
        return new AudioClip(samples, rate);
    }

    /// <summary>A LibriSpeech-style corpus under <paramref name="root"/> whose utterances spell their transcripts in tones.</summary>
    public static string ToneCorpus(string root, IReadOnlyList<string> transcripts)
    {
        string chapter = Directory.CreateDirectory(Path.Combine(root, "1", "2")).FullName;
        for (int i = 0; i < transcripts.Count; i++)
            File.WriteAllBytes(Path.Combine(chapter, $"1-2-{i:D4}.wav"), WavWriter.Encode(SpelledInTones(transcripts[i])));
        File.WriteAllLines(Path.Combine(chapter, "1-2.trans.txt"), transcripts.Select((t, i) => $"1-2-{i:D4} {t}"));
        return root;
    }
}
