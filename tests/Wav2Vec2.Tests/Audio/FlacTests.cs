using Wav2Vec2.Audio;

namespace Wav2Vec2.Tests.Audio;

[TestClass]
public sealed class FlacTests
{
    [TestMethod]
    [DataRow("speech16", 16)]
    [DataRow("stereo24", 24)]
    [DataRow("speech8", 8)]
    public void FlacDecodesToTheSamplesOfItsSourceWav(string name, int bits)
    {
        AudioClip flac = AudioFile.Read(FixturePath("flac", name + ".flac"));
        AudioClip wav = AudioFile.Read(FixturePath("flac", name + ".wav"));
        Assert.AreEqual(wav.SampleRate, flac.SampleRate);
        Assert.AreEqual(wav.Samples.Length, flac.Samples.Length);
        for (int i = 0; i < wav.Samples.Length; i++)
            Assert.AreEqual(wav.Samples[i], flac.Samples[i], 1e-6, $"sample {i}");
        FlacStreamInfo info = FlacDecoder.ReadStreamInfo(File.ReadAllBytes(FixturePath("flac", name + ".flac")), name);
        Assert.AreEqual(bits, info.BitsPerSample);
        Assert.IsTrue(info.Md5.Any(b => b != 0), "sox records an MD5, so the check ran");
    }

    [TestMethod]
    public void CorruptFlacFailsWithAClearMessage()
    {
        byte[] good = File.ReadAllBytes(FixturePath("flac", "speech16.flac"));
        byte[] flipped = (byte[])good.Clone();
        flipped[good.Length / 2] ^= 0x5A;
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => FlacDecoder.Decode(flipped, "x.flac")).Message, "corrupt");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => FlacDecoder.Decode(good[..(good.Length * 2 / 3)], "x.flac")).Message, "truncated");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => FlacDecoder.Decode("RIFF1234WAVE"u8.ToArray(), "x.flac")).Message, "not a FLAC file");
    }
}
