using System.Diagnostics.CodeAnalysis;
using Wav2Vec2.Audio;
using Wav2Vec2.Decoding;
using Wav2Vec2.Models;
using Wav2Vec2.Tensors;

namespace Wav2Vec2.Inference;

/// <summary>
/// CTC forced alignment of a known transcript to a recording (torchaudio's forced_align semantics, see
/// <see cref="AlignmentOptions"/>): the transcript is normalised as fine-tuning normalises it (case, punctuation,
/// spaces to the word delimiter), spelled in the model's vocabulary, and the most probable CTC path that spells it
/// gives the time and score of every token and word. Long recordings run through the model in windows (the chunking
/// of feature extraction) and are aligned in windows at a cost linear in their length, so an hour fits in the memory
/// of one window. Safe to share between threads.
/// </summary>
/// <example><code>
/// var aligner = CtcAligner.FromPretrained("wav2vec2-base-960h");
/// TimedTranscript aligned = aligner.Align(AudioFile.Read("chapter.flac"), File.ReadAllText("chapter.txt"));
/// File.WriteAllText("chapter.srt", aligned.ToSrt());
/// </code></example>
public sealed class CtcAligner
{
    /// <summary>Aligns with <paramref name="model"/>'s CTC head and vocabulary.</summary>
    /// <exception cref="InvalidOperationException">The model has no vocabulary.</exception>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public CtcAligner(Wav2Vec2ForCtc model, AlignmentOptions? options = null)
    {
        Model = model;
        Tokenizer = model.Tokenizer ?? throw new InvalidOperationException("the model has no vocabulary (vocab.json) to align with");
        Options = options ?? new AlignmentOptions();
        Options.Validate();
    }

    /// <summary>The acoustic model.</summary>
    public Wav2Vec2ForCtc Model { get; }

    /// <summary>The vocabulary the transcript is spelled in.</summary>
    public CtcTokenizer Tokenizer { get; }

    /// <summary>Unknown characters, exactness and windows.</summary>
    public AlignmentOptions Options { get; }

    /// <summary>Loads a Hugging Face Wav2Vec2ForCTC directory (weights, config.json, vocab.json); an MMS model is switched
    /// to <paramref name="language"/>, which it needs.</summary>
    /// <exception cref="FileNotFoundException">The directory has no vocab.json.</exception>
    /// <exception cref="InvalidDataException">A multilingual model and no language, or a language it has no adapter for.</exception>
    public static CtcAligner FromPretrained(string directory, AlignmentOptions? options = null, string? language = null) =>
        new(Wav2Vec2ForCtc.WithVocabulary(directory, language, "align"), options);

    /// <summary>Aligns <paramref name="transcript"/> (any case and punctuation) to <paramref name="audio"/>.</summary>
    /// <exception cref="ArgumentException">An empty transcript, characters outside the vocabulary (with
    /// <see cref="UnknownCharacters.Error"/>), a transcript longer than the frames allow, or audio too short for a frame.</exception>
    public TimedTranscript Align(AudioClip audio, string transcript, ChunkingOptions? chunking = null, CancellationToken cancellationToken = default)
    {
        (int[] targets, string[] text) = Spell(transcript);   // fails on a bad transcript before the model runs
        Tensor logits = Model.Logits(audio, chunking, null, cancellationToken);
        return Align(logits.Span, logits.Size(0), targets, text);
    }

    /// <summary>Aligns <paramref name="transcript"/> to logits already computed: (frames, vocab_size), row-major.</summary>
    /// <exception cref="ArgumentException">As <see cref="Align(AudioClip, string, ChunkingOptions?, CancellationToken)"/>,
    /// or logits that are not a whole number of frames.</exception>
    public TimedTranscript Align(ReadOnlySpan<float> logits, int frames, string transcript)
    {
        (int[] targets, string[] text) = Spell(transcript);
        return Align(logits, frames, targets, text);
    }

    /// <summary>
    /// Whether <paramref name="transcript"/> can be aligned to <paramref name="frames"/> frames (the model's
    /// <see cref="Wav2Vec2Model.FrameCount"/> of a recording), and if not, why: checks a row before any audio runs
    /// through the model.
    /// </summary>
    /// <example><code>
    /// if (!aligner.CanAlign(text, aligner.Model.Backbone.FrameCount(samples), out string? problem)) Console.WriteLine(problem);
    /// </code></example>
    public bool CanAlign(string transcript, int frames, [NotNullWhen(false)] out string? problem)
    {
        try
        {
            (int[] targets, _) = Spell(transcript);
            int needed = targets.Length + targets.Skip(1).Where((id, i) => id == targets[i]).Count();
            problem = needed <= frames ? null : $"the transcript needs at least {needed} frames but the audio gives {frames}";
        }
        catch (ArgumentException e)
        {
            problem = e.Message;
        }
        return problem == null;
    }

    private TimedTranscript Align(ReadOnlySpan<float> logits, int frames, int[] targets, string[] text)
    {
        int vocab = Tokenizer.Count;
        if (logits.Length != frames * vocab)
            throw new ArgumentException($"logits hold {logits.Length} values, not {frames} frames x {vocab} tokens");
        float[] logProbs = TimedTranscript.LogSoftmax(logits, vocab);
        double secondsPerFrame = Model.Backbone.SecondsPerFrame;
        int[] path = CtcViterbi.Align(logProbs, frames, vocab, targets, Tokenizer.PadId, Options.MaxExactStates,
            Options.WindowFrames(secondsPerFrame), Tokenizer.WordDelimiterId, out int[] positions);
        var frameLogProbs = new float[frames];
        for (int t = 0; t < frames; t++)
            frameLogProbs[t] = logProbs[t * vocab + path[t]];
        return TimedTranscript.FromPath(positions, position => text[position], frameLogProbs, secondsPerFrame);
    }

    /// <summary>
    /// The transcript as token ids and, for each, its text (the transcript's character; " " for the word delimiter):
    /// normalised, words joined by the delimiter, unknown characters handled as <see cref="AlignmentOptions.UnknownCharacters"/> says.
    /// </summary>
    private (int[] Targets, string[] Text) Spell(string transcript)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        int delimiter = Tokenizer.WordDelimiterId;
        if (delimiter < 0)
            throw new InvalidOperationException($"the vocabulary has no word delimiter '{Tokenizer.WordDelimiter}'");
        int unknownId = Tokenizer.Id("<unk>");
        var targets = new List<int>();
        var text = new List<string>();
        var unknown = new SortedSet<char>();
        foreach (string word in Tokenizer.Normalize(transcript).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int before = targets.Count;
            if (before > 0)
                Add(delimiter, " ");
            bool spelled = false;
            foreach (char c in word)
            {
                int id = Tokenizer.Id(c.ToString());
                if (id < 0 || Tokenizer.IsSpecial(id))
                {
                    unknown.Add(c);
                    if (Options.UnknownCharacters == UnknownCharacters.Drop)
                        continue;
                    if (Options.UnknownCharacters == UnknownCharacters.MapToUnknown && unknownId < 0)
                        throw new ArgumentException($"the vocabulary has no <unk> token to map '{c}' to");
                    id = unknownId;
                }
                Add(id, c.ToString());
                spelled = true;
            }
            if (!spelled)   // a word of dropped characters only: no delimiter for it either
            {
                targets.RemoveRange(before, targets.Count - before);
                text.RemoveRange(before, text.Count - before);
            }
        }
        if (unknown.Count > 0 && Options.UnknownCharacters == UnknownCharacters.Error)
            throw new ArgumentException($"the transcript has characters outside the vocabulary: {string.Join(" ", unknown.Select(c => $"'{c}'"))} " +
                "(UnknownCharacters MapToUnknown or Drop aligns it anyway)");
        if (targets.Count == 0)
            throw new ArgumentException(unknown.Count > 0 ? "the transcript has only characters outside the vocabulary" : "the transcript is empty");
        return ([.. targets], [.. text]);

        void Add(int id, string character)
        {
            targets.Add(id);
            text.Add(character);
        }
    }
}
