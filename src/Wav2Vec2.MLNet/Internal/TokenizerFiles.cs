using System.Text.Json;
using Wav2Vec2.Models;

namespace Wav2Vec2.MLNet.Internal;

/// <summary>Writes a CTC vocabulary back as vocab.json and tokenizer_config.json (read by CtcTokenizer.Load).</summary>
internal static class TokenizerFiles
{
    public static void Write(CtcTokenizer tokenizer, string directory)
    {
        var vocabulary = new Dictionary<string, int>();
        for (int id = 0; id < tokenizer.Count; id++)
            vocabulary.TryAdd(tokenizer.Token(id), id);
        File.WriteAllText(Path.Combine(directory, "vocab.json"), JsonSerializer.Serialize(vocabulary));
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["pad_token"] = tokenizer.Token(tokenizer.PadId), ["word_delimiter_token"] = tokenizer.WordDelimiter,
        }));
    }
}
