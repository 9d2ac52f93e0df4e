using System.Buffers.Binary;
using Wav2Vec2.Audio;

namespace Wav2Vec2.Tests.Audio;

[TestClass]
public sealed class AudioTests
{
    private static readonly float[] Ramp = [0f, 0.5f, -0.5f, 0.25f, -1f, 0.75f];

    [TestMethod]
    [DataRow(1, 8)]
    [DataRow(1, 16)]
    [DataRow(1, 24)]
    [DataRow(1, 32)]
    [DataRow(3, 32)]
    [DataRow(3, 64)]
    public void PcmAndFloatEncodingsDecodeToTheSameSamples(int format, int bits)
    {
        AudioClip clip = AudioFile.Decode(Build(format, bits, channels: 1, Ramp, extensible: false));
        Assert.AreEqual(22050, clip.SampleRate);
        float tolerance = bits == 8 ? 1f / 128 : 1e-4f;
        for (int i = 0; i < Ramp.Length; i++)
            Assert.AreEqual(Ramp[i], clip.Samples[i], tolerance, $"sample {i} ({format}/{bits})");
    }

    [TestMethod]
    public void ExtensibleStereoWithListChunkAndPaddingIsDownmixed()
    {
        // Left = ramp, right = -ramp / 2: the mono mix is ramp / 4. A LIST chunk of odd size (with its pad byte) comes first.
        float[] interleaved = Ramp.SelectMany(v => new[] { v, -v / 2 }).ToArray();
        byte[] wav = Build(1, 16, channels: 2, interleaved, extensible: true, extraChunk: "LIST", extraChunkSize: 5);
        AudioClip clip = AudioFile.Decode(wav);
        Assert.AreEqual(Ramp.Length, clip.Samples.Length);
        for (int i = 0; i < Ramp.Length; i++)
            Assert.AreEqual(Ramp[i] / 4, clip.Samples[i], 1e-4f);
    }

    [TestMethod]
    public void BadFilesFailWithAClearMessage()
    {
        byte[] good = Build(1, 16, 1, Ramp, extensible: false);
        Expect("not a WAV file", "hello world, not audio"u8.ToArray());
        Expect("truncated WAV", good[..^4]);
        Expect("no samples", Build(1, 16, 1, [], extensible: false));
        Expect("unsupported WAV encoding", Build(1, 12, 1, Ramp, extensible: false));
        Expect("malformed WAV file", good[..36]);   // no data chunk
        Expect("empty file", []);

        static void Expect(string message, byte[] bytes) =>
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => AudioFile.Decode(bytes, "x.wav")).Message, message);
    }

    [TestMethod]
    public void NonFiniteSamplesAndAbsurdRatesAreErrorsNotResults()
    {
        // A float WAV with a NaN (or an infinity): every feature would be NaN downstream.
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity })
        {
            string message = Assert.ThrowsExactly<InvalidDataException>(() => AudioFile.Decode(Build(3, 32, 1, [0.1f, 0.2f, bad, 0.3f], extensible: false), "nan.wav")).Message;
            StringAssert.StartsWith(message, "nan.wav: sample 2 is ");
            StringAssert.Contains(message, "not a finite number");
        }
        // A header saying 2 Hz would be upsampled 8000 times before anything else could fail.
        byte[] twoHertz = Build(1, 16, 1, Ramp, extensible: false);
        BinaryPrimitives.WriteInt32LittleEndian(twoHertz.AsSpan(24), 2);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => AudioFile.Decode(twoHertz, "slow.wav")).Message,
            "slow.wav: 1 channels at 2 Hz is not audio that can be read");
    }

    [TestMethod]
    public void HeaderOnlyInfoGivesRateAndLength()
    {
        string path = Path.GetTempFileName();
        try
        {
            byte[] wav = Build(1, 24, channels: 2, Ramp.Concat(Ramp).ToArray(), extensible: true, extraChunk: "LIST", extraChunkSize: 7);
            File.WriteAllBytes(path, wav);
            Assert.AreEqual((22050, 6L), AudioFile.ReadInfo(path));
            File.WriteAllBytes(path, wav[..^3]);
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => AudioFile.ReadInfo(path)).Message, "truncated WAV");
            // Metadata of several megabytes before the samples (embedded cover art): the chunk walk seeks over it.
            File.WriteAllBytes(path, Build(1, 16, channels: 1, Ramp, extensible: false, extraChunk: "LIST", extraChunkSize: 3 << 20));
            Assert.AreEqual((22050, (long)Ramp.Length), AudioFile.ReadInfo(path));
            Assert.AreEqual(Ramp.Length, AudioFile.Read(path).Samples.Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void WriterRoundTripsThroughTheReader()
    {
        var clip = new AudioClip(Ramp, 16000);
        CollectionAssert.AreEqual(Ramp, AudioFile.Decode(WavWriter.Encode(clip, asFloat: true)).Samples);
        float[] pcm = AudioFile.Decode(WavWriter.Encode(clip)).Samples;
        for (int i = 0; i < Ramp.Length; i++)
            Assert.AreEqual(Ramp[i], pcm[i], 1e-4f);
    }

    [TestMethod]
    [DataRow("tone_44100")]
    [DataRow("sweep_44100")]
    [DataRow("tone_8000")]
    [DataRow("sweep_48000")]
    public void ResamplerAgreesWithSoxWithin90Decibels(string name)
    {
        AudioClip input = AudioFile.Read(FixturePath("resampler", name + ".wav"));
        float[] sox = AudioFile.Read(FixturePath("resampler", name + "_sox16k.wav")).Samples;
        float[] ours = input.ResampleTo(16000).Samples;
        Assert.AreEqual(sox.Length, ours.Length, "output length");
        // Compare away from the edges (the two resamplers pad the signal's ends differently).
        int edge = 16000 / 50;
        double signal = 0, error = 0;
        for (int i = edge; i < sox.Length - edge; i++)
        {
            signal += sox[i] * (double)sox[i];
            error += (sox[i] - ours[i]) * (double)(sox[i] - ours[i]);
        }
        double decibels = 10 * Math.Log10(error / signal);
        Assert.IsTrue(decibels < -90, $"{name}: difference from sox is {decibels:F1} dB");
    }

    [TestMethod]
    public void ResamplerRejectsBadRatesAndKeepsSameRate()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Resampler.Resample(Ramp, 0, 16000));
        CollectionAssert.AreEqual(Ramp, Resampler.Resample(Ramp, 16000, 16000));
        Assert.AreEqual(2 * Ramp.Length, Resampler.Resample(Ramp, 8000, 16000).Length);
    }

    [TestMethod]
    public void NormalisationIsZeroMeanUnitVariance()
    {
        float[] x = TestSupport.RandomArray(1000, 3, 0.2f).Select(v => v + 0.3f).ToArray();
        var preprocessor = new InputValuesPreprocessor();
        float[] y = preprocessor.Normalize(x);
        Assert.AreEqual(0, y.Average(), 1e-5);
        Assert.AreEqual(1, y.Select(v => (double)v * v).Average(), 1e-4);
        float[] silence = preprocessor.Normalize(new float[10]);
        Assert.IsTrue(silence.All(v => v == 0), "silence stays finite (eps 1e-7)");
    }

    internal static byte[] Build(int format, int bits, int channels, float[] interleaved, bool extensible,
        string? extraChunk = null, int extraChunkSize = 0)
    {
        int width = bits / 8;
        using var stream = new MemoryStream();
        var w = new BinaryWriter(stream);
        w.Write("RIFF"u8); w.Write(0); w.Write("WAVE"u8);
        if (extraChunk != null)
        {
            w.Write(System.Text.Encoding.ASCII.GetBytes(extraChunk)); w.Write(extraChunkSize);
            w.Write(new byte[extraChunkSize + (extraChunkSize & 1)]);
        }
        w.Write("fmt "u8); w.Write(extensible ? 40 : 16);
        w.Write((ushort)(extensible ? 0xFFFE : format)); w.Write((ushort)channels); w.Write(22050);
        w.Write(22050 * channels * width); w.Write((ushort)(channels * width)); w.Write((ushort)bits);
        if (extensible)
        {
            w.Write((ushort)22); w.Write((ushort)bits); w.Write(0);
            // The sub-format GUID: the format code, then the KSDATAFORMAT_SUBTYPE suffix every writer uses.
            w.Write((ushort)format); w.Write(new byte[] { 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71 });
        }
        w.Write("data"u8); w.Write(interleaved.Length * width);
        foreach (float v in interleaved)
        {
            switch (format, bits)
            {
                case (3, 32): w.Write(v); break;
                case (3, 64): w.Write((double)v); break;
                case (1, 8): w.Write((byte)Math.Clamp(128 + v * 128, 0, 255)); break;
                case (1, 16): w.Write((short)Math.Clamp(v * 32768, -32768, 32767)); break;
                case (1, 24): { int s = (int)Math.Clamp(v * 8388608, -8388608, 8388607); w.Write((byte)s); w.Write((byte)(s >> 8)); w.Write((byte)(s >> 16)); break; }
                case (1, 32): w.Write((int)Math.Clamp(v * 2147483648.0, int.MinValue, int.MaxValue)); break;
                default: w.Write(new byte[Math.Max(1, width)]); break;
            }
        }
        byte[] bytes = stream.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), bytes.Length - 8);
        return bytes;
    }
}
