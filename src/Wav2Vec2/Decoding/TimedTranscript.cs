using Wav2Vec2.Models;

namespace Wav2Vec2.Decoding;

/// <summary>A token (character) of a transcript and where it was spoken.</summary>
/// <param name="Token">The token's text; the word delimiter is " ", as Hugging Face's char offsets write it.</param>
/// <param name="StartFrame">First frame of the token on the path.</param>
/// <param name="EndFrame">One past its last frame.</param>
/// <param name="Start">Start in seconds: <paramref name="StartFrame"/> x samples per frame / sampling rate.</param>
/// <param name="End">End in seconds.</param>
/// <param name="Score">Mean natural-log posterior of the token on its frames (&lt;= 0; 0 is certain).</param>
public sealed record TokenSpan(string Token, int StartFrame, int EndFrame, double Start, double End, double Score);

/// <summary>A word of a transcript and where it was spoken.</summary>
/// <param name="Word">The word.</param>
/// <param name="StartFrame">First frame of its first token on the path.</param>
/// <param name="EndFrame">One past the last frame of its last token.</param>
/// <param name="Start">Start in seconds.</param>
/// <param name="End">End in seconds.</param>
/// <param name="Score">Mean natural-log posterior of the path's label on the word's frames, blanks between its letters
/// included (&lt;= 0; 0 is certain).</param>
public sealed record WordSpan(string Word, int StartFrame, int EndFrame, double Start, double End, double Score);

/// <summary>
/// A transcript with the time of each word and token, from a decoder (<see cref="ICtcDecoder.DecodeWithTimestamps"/>)
/// or from forced alignment of a known transcript. Times follow Hugging Face's ASR pipeline
/// (<c>return_timestamps="word"</c> / <c>"char"</c>): frame offsets on the chosen CTC path times the model's
/// inputs_to_logits_ratio, divided by the sampling rate (0.02 s a frame for the standard encoder at 16 kHz), counted
/// over the whole recording.
/// </summary>
/// <param name="Text">The words separated by single spaces.</param>
/// <param name="Words">Each word with its span.</param>
/// <param name="Tokens">Each emitted token with its span, the word delimiter included.</param>
/// <example><code>
/// TimedTranscript timed = recognizer.TranscribeWithTimestamps(audio);
/// foreach (WordSpan word in timed.Words)
///     Console.WriteLine($"{word.Start:F2}-{word.End:F2} {word.Word} ({Math.Exp(word.Score):P0})");
/// </code></example>
public sealed partial record TimedTranscript(string Text, IReadOnlyList<WordSpan> Words, IReadOnlyList<TokenSpan> Tokens)
{
    /// <summary>
    /// The spans of a frame-by-frame path: <paramref name="units"/> holds each frame's unit (a token id for decoders, a
    /// transcript position for forced alignment; -1 for a blank) and <paramref name="frameLogProbs"/> the natural-log
    /// probability of the path's label on that frame. Consecutive frames of one unit form a token, units whose
    /// <paramref name="text"/> is null (special tokens) are dropped, and tokens between word delimiters (text " ") form
    /// words, as Hugging Face's <c>_compute_offsets</c> and <c>_get_word_offsets</c> do.
    /// </summary>
    internal static TimedTranscript FromPath(ReadOnlySpan<int> units, Func<int, string?> text, ReadOnlySpan<float> frameLogProbs,
        double secondsPerFrame)
    {
        var onPath = new double[units.Length + 1];   // prefix sums of the path's log-probabilities
        for (int t = 0; t < units.Length; t++)
            onPath[t + 1] = onPath[t] + frameLogProbs[t];
        double Mean(int start, int end) => end > start ? (onPath[end] - onPath[start]) / (end - start) : 0;

        var tokens = new List<TokenSpan>();
        for (int start = 0, end; start < units.Length; start = end)
        {
            for (end = start + 1; end < units.Length && units[end] == units[start]; end++)
            {
            }
            if (units[start] >= 0 && text(units[start]) is string token)
                tokens.Add(new TokenSpan(token, start, end, start * secondsPerFrame, end * secondsPerFrame, Mean(start, end)));
        }

        var words = new List<WordSpan>();
        for (int first = 0, next; first < tokens.Count; first = next)
        {
            next = first + 1;
            if (tokens[first].Token == " ")
                continue;
            while (next < tokens.Count && tokens[next].Token != " ")
                next++;
            int startFrame = tokens[first].StartFrame, endFrame = tokens[next - 1].EndFrame;
            string word = string.Concat(tokens.Skip(first).Take(next - first).Select(t => t.Token));
            words.Add(new WordSpan(word, startFrame, endFrame, startFrame * secondsPerFrame, endFrame * secondsPerFrame, Mean(startFrame, endFrame)));
        }
        return new TimedTranscript(string.Join(' ', words.Select(w => w.Word)), words, tokens);
    }

    /// <summary>The spans of a path of token ids (blank = the tokenizer's pad), for the decoders.</summary>
    internal static TimedTranscript FromTokenPath(ReadOnlySpan<int> path, ReadOnlySpan<float> logProbs, CtcTokenizer tokenizer,
        double secondsPerFrame)
    {
        int vocab = tokenizer.Count, delimiter = tokenizer.WordDelimiterId, blank = tokenizer.PadId;
        var units = new int[path.Length];
        var frameLogProbs = new float[path.Length];
        for (int t = 0; t < path.Length; t++)
        {
            units[t] = path[t] == blank ? -1 : path[t];
            frameLogProbs[t] = logProbs[t * vocab + path[t]];
        }
        return FromPath(units, id => id == delimiter ? " " : tokenizer.IsSpecial(id) ? null : tokenizer.Token(id), frameLogProbs, secondsPerFrame);
    }

    /// <summary>Row-wise log-softmax of (frames x vocab) logits, in double accumulation.</summary>
    internal static float[] LogSoftmax(ReadOnlySpan<float> logits, int vocab)
    {
        var result = new float[logits.Length];
        for (int row = 0; row < logits.Length; row += vocab)
        {
            ReadOnlySpan<float> x = logits.Slice(row, vocab);
            float max = float.NegativeInfinity;
            foreach (float v in x)
                max = Math.Max(max, v);
            double sum = 0;
            foreach (float v in x)
                sum += Math.Exp(v - max);
            float norm = max + (float)Math.Log(sum);
            for (int i = 0; i < vocab; i++)
                result[row + i] = x[i] - norm;
        }
        return result;
    }
}
