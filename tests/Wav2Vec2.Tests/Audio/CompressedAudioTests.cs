using NAudio.Wave;
using Wav2Vec2.Audio;

namespace Wav2Vec2.Tests.Audio;

/// <summary>
/// MP3, Ogg Vorbis and Ogg Opus against ffmpeg's decode of the same files (tools/make-compressed-audio-fixtures.sh):
/// the same length, no offset (gapless MP3, Opus pre-skip) and the same samples; damaged files fail with one line.
/// </summary>
[TestClass]
public sealed class CompressedAudioTests
{
    [TestMethod]
    [DataRow("cbr.mp3", 110)]       // LAME Info header: encoder delay and padding
    [DataRow("vbr.mp3", 110)]       // Xing header
    [DataRow("notag.mp3", 110)]     // no header: every decoded sample, as ffmpeg gives them
    [DataRow("stereo44.mp3", 110)]
    [DataRow("speech.ogg", 110)]
    [DataRow("stereo44.ogg", 110)]
    [DataRow("speech.opus", 75)]    // Concentus (libopus 1.1's decoder in C#) vs Debian's libopus 1.3
    [DataRow("stereo.opus", 70)]
    public void DecodesAsFfmpegDoes(string file, double minimumDecibels)
    {
        string path = FixturePath("compressed", file);
        AudioClip ours = AudioFile.Read(path);
        AudioClip ffmpeg = MonoMean(path + ".ffmpeg.wav");
        Assert.AreEqual(ffmpeg.SampleRate, ours.SampleRate, "rate");
        Assert.AreEqual(ffmpeg.Samples.Length, ours.Samples.Length, "length");
        // Signal to difference ratio: any offset between the two would drop it below 20 dB.
        double signal = ffmpeg.Samples.Sum(v => (double)v * v);
        double difference = ours.Samples.Zip(ffmpeg.Samples, (a, b) => (double)(a - b) * (a - b)).Sum();
        double decibels = 10 * Math.Log10(signal / difference);
        Assert.IsTrue(decibels > minimumDecibels, $"{file}: {decibels:F1} dB from ffmpeg's samples");
        Assert.AreEqual((ours.SampleRate, (long)ours.Samples.Length), AudioFile.ReadInfo(path), "header info");
    }

    [TestMethod]
    public void NAudioSourcesAreReadWithoutATemporaryFile()
    {
        string wav = FixturePath("flac", "stereo24.wav");
        using var reader = new WaveFileReader(wav);
        AudioClip fromReader = AudioFile.Read(reader, "reader");
        CollectionAssert.AreEqual(AudioFile.Read(wav).Samples, fromReader.Samples);
        // A mixer of two sources: the sum, then the channels averaged.
        var tone = new NAudio.Wave.SampleProviders.SignalGenerator(16000, 1) { Frequency = 440, Gain = 0.25 }.Take(TimeSpan.FromSeconds(0.5));
        AudioClip mixed = AudioFile.Read(tone, "tone");
        Assert.AreEqual(8000, mixed.Samples.Length);
        Assert.AreEqual(0.25, mixed.Samples.Max(), 1e-3);
    }

    [TestMethod]
    public void DamagedFilesFailWithOneLineNamingTheFile()
    {
        byte[] mp3 = File.ReadAllBytes(FixturePath("compressed", "cbr.mp3"));
        byte[] ogg = File.ReadAllBytes(FixturePath("compressed", "speech.ogg"));
        byte[] opus = File.ReadAllBytes(FixturePath("compressed", "speech.opus"));
        Expect(mp3[..(mp3.Length - 100)], "truncated MP3");
        Expect(Zeroed(mp3, mp3.Length / 2, 300), "corrupt MP3");
        Expect(ogg[..(ogg.Length - 100)], "truncated Ogg");
        Expect(Flipped(ogg, ogg.Length / 2), "checksum mismatch");
        Expect(opus[..(opus.Length / 2)], "truncated Ogg");
        Expect(Zeroed(opus, opus.Length / 2, 64), "corrupt Ogg");
        Expect([0, 0, 0, 0x20, .. "ftypM4A "u8, .. new byte[64]], "MP4/M4A");
        Expect("just some text, not audio"u8.ToArray(), "not an audio file");

        static void Expect(byte[] bytes, string message)
        {
            string error = Assert.ThrowsExactly<InvalidDataException>(() => AudioFile.Decode(bytes, "clip.bin")).Message;
            StringAssert.StartsWith(error, "clip.bin: ");
            StringAssert.Contains(error, message);
            Assert.IsFalse(error.Contains('\n'), error);
        }
    }

    [TestMethod]
    public void RandomMutantsDecodeOrFailWithTheTypedError()
    {
        // Bit flips, cuts and zeroed runs anywhere: the decoders behind AudioFile throw whatever their internals meet;
        // the caller sees a finite clip or an InvalidDataException, nothing else.
        var random = new Random(7);
        foreach (string file in new[] { "cbr.mp3", "vbr.mp3", "stereo44.ogg", "stereo.opus" })
        {
            byte[] good = File.ReadAllBytes(FixturePath("compressed", file));
            for (int mutant = 0; mutant < 12; mutant++)
            {
                byte[] bad = (mutant % 3) switch
                {
                    0 => Flipped(good, random.Next(good.Length)),
                    1 => good[..random.Next(1, good.Length)],
                    _ => Zeroed(good, random.Next(good.Length), 50),
                };
                try
                {
                    AudioClip clip = AudioFile.Decode(bad, file);
                    Assert.IsTrue(clip.Samples.All(float.IsFinite), $"{file} mutant {mutant}");
                }
                catch (InvalidDataException e)
                {
                    StringAssert.StartsWith(e.Message, file + ": ");
                }
            }
        }
    }

    private static byte[] Flipped(byte[] data, int at)
    {
        byte[] copy = [.. data];
        copy[at] ^= 0x10;
        return copy;
    }

    private static byte[] Zeroed(byte[] data, int at, int count)
    {
        byte[] copy = [.. data];
        Array.Clear(copy, at, Math.Min(count, copy.Length - at));
        return copy;
    }

    // ffmpeg's decode, channels averaged the way AudioFile averages them.
    private static AudioClip MonoMean(string path)
    {
        using var reader = new WaveFileReader(path);
        return AudioFile.Read(reader, path);
    }
}
