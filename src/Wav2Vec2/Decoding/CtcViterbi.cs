namespace Wav2Vec2.Decoding;

/// <summary>
/// CTC forced alignment: the most probable frame-by-frame path that spells a given token sequence, over the states
/// blank, token 1, blank, token 2, ..., blank (torchaudio's forced_align semantics: a path stays, moves to the next
/// state, or skips a blank between two different tokens; two equal tokens need a blank between them; ties prefer
/// staying, then moving by one; the path ends on the last token or the blank after it, the last token on a tie).
/// <para>
/// Exact when frames x states stays within a bound (the backpointers take two bits each). Longer inputs are aligned in
/// windows of a fixed number of frames with a cost linear in the length: each
/// window is aligned exactly against the transcript from where the previous one stopped, with a free end among the
/// states that leave the remaining frames enough room for the remaining tokens; the path is kept up to the start of
/// the last word that begins before the window's last quarter, and the next window continues exactly from the state
/// the kept path ends in. The approximation is only that a window cannot see audio beyond its end when it places the
/// words it keeps.
/// </para>
/// </summary>
internal static class CtcViterbi
{
    /// <summary>
    /// The label (token id, or <paramref name="blank"/>) of every frame of the best path for <paramref name="targets"/>
    /// through the log-probabilities <paramref name="logProbs"/> (frames x vocab, row-major).
    /// </summary>
    /// <exception cref="ArgumentException">The targets need more frames than there are, or contain the blank.</exception>
    public static int[] Align(ReadOnlySpan<float> logProbs, int frames, int vocab, ReadOnlySpan<int> targets, int blank,
        long maxExactStates, int windowFrames, int wordDelimiter = -1) =>
        Align(logProbs, frames, vocab, targets, blank, maxExactStates, windowFrames, wordDelimiter, out _);

    /// <summary>As the other overload; <paramref name="positions"/> gets each frame's target index (-1 on a blank).</summary>
    public static int[] Align(ReadOnlySpan<float> logProbs, int frames, int vocab, ReadOnlySpan<int> targets, int blank,
        long maxExactStates, int windowFrames, int wordDelimiter, out int[] positions)
    {
        int length = targets.Length;
        if (length == 0)
            throw new ArgumentException("nothing to align: the transcript has no tokens");
        int repeats = 0;
        for (int i = 0; i < length; i++)
        {
            if (targets[i] == blank || (uint)targets[i] >= (uint)vocab)
                throw new ArgumentException($"target {i} is token {targets[i]}, not a non-blank token of the vocabulary");
            if (i > 0 && targets[i] == targets[i - 1])
                repeats++;
        }
        if (length + repeats > frames)
            throw new ArgumentException($"the transcript needs at least {length + repeats} frames ({length} tokens, {repeats} " +
                $"repeated letters that need a blank between them) but the audio gives {frames}");
        var path = new int[frames];
        positions = new int[frames];
        byte[]? scratch = null;
        int[] targetArray = targets.ToArray();
        long states = 2L * length + 1;
        if ((long)frames * states <= maxExactStates || frames <= windowFrames)
            Solve(logProbs, vocab, targetArray, blank, new Window(0, frames, 0, (int)states - 1, -1, OpenEnd: false), path, positions, ref scratch);
        else
            AlignInWindows(logProbs, frames, vocab, targetArray, blank, windowFrames, wordDelimiter, path, positions);
        return path;
    }

    // A sub-problem: frames [Start, End), full-problem states [FirstState, LastState]; Carried is the state the path was
    // in at frame Start - 1 (-1 at the very beginning, where the path starts in state 0 or 1). An open end may stop in
    // any state from MinEndState on; a closed one stops on the last token or the blank after it.
    private readonly record struct Window(int Start, int End, int FirstState, int LastState, int Carried, bool OpenEnd, int MinEndState = 0);

    private static void AlignInWindows(ReadOnlySpan<float> logProbs, int frames, int vocab, int[] targets, int blank, int windowFrames,
        int delimiter, int[] path, int[] positions)
    {
        int length = targets.Length, lastState = 2 * length;
        // needed[k]: frames that tokens [k, length) need at least (one each, one more per repeated letter); from state
        // 2k (the blank before token k) the rest needs needed[k] frames, from 2k + 1 (in token k) one fewer.
        var needed = new int[length + 1];
        for (int k = length - 1; k >= 0; k--)
            needed[k] = needed[k + 1] + 1 + (k + 1 < length && targets[k + 1] == targets[k] ? 1 : 0);
        int minEndState = 0;
        byte[]? scratch = null;   // one backpointer buffer for every window
        int start = 0, carried = -1;
        while (true)
        {
            int firstState = carried < 0 ? 0 : carried;
            int firstToken = firstState / 2;
            // Tokens the window may reach: twice the remaining average rate, and a margin.
            double rate = (double)(length - firstToken) / (frames - start);
            int lastToken = (int)Math.Min(length, firstToken + Math.Ceiling(windowFrames * rate * 2) + 32);
            bool last = start + windowFrames >= frames || (lastToken == length && frames - start <= 2 * windowFrames);
            int end = last ? frames : start + windowFrames;
            // The lowest state the window may end in: the remaining frames must hold the remaining tokens, else a
            // window that would rather stay on blank (an untrained model) pushes the transcript out of the audio.
            while (minEndState < lastState && needed[minEndState / 2] - minEndState % 2 > frames - end)
                minEndState++;
            var window = new Window(start, end, firstState, last ? lastState : Math.Min(lastState, Math.Max(2 * lastToken, minEndState + 2)),
                carried, OpenEnd: !last, minEndState);
            int[] states = Solve(logProbs, vocab, targets, blank, window, path, positions, ref scratch);
            if (last)
                return;
            int keep = KeptFrames(states, targets, delimiter, window);
            start += keep;
            carried = states[keep - 1];
        }
    }

    // How many frames of a window's path to keep: up to the start of the last word (else token) that begins before the
    // window's last quarter. The rest of the transcript fits after any cut, as the window's path ends in a state that
    // leaves it room.
    private static int KeptFrames(int[] states, int[] targets, int delimiter, Window window)
    {
        int cutoff = Math.Max(1, (window.End - window.Start) * 3 / 4);
        int bestToken = -1, bestWord = -1;
        for (int f = 1; f <= cutoff; f++)
        {
            int s = states[f];
            if (s == states[f - 1] || s % 2 == 0)
                continue;   // not the first frame of a token
            bestToken = f;
            if (targets[s / 2] == delimiter)
                bestWord = f;
        }
        return bestWord > 0 ? bestWord : bestToken > 0 ? bestToken : cutoff;
    }

    // Exact Viterbi over one window; writes the labels and target positions of its frames into path and positions and
    // returns each frame's state. The backpointers go to `scratch`, grown by half when too small (windows
    // grow a little at a time, and each discarded buffer would stay in the large-object heap until a full collection).
    private static int[] Solve(ReadOnlySpan<float> logProbs, int vocab, int[] targets, int blank, Window w, int[] path, int[] positions,
        ref byte[]? scratch)
    {
        int frames = w.End - w.Start, count = w.LastState - w.FirstState + 1;
        long bytes = ((long)frames * count + 3) / 4;   // 2 bits per (frame, state): 0 stay, 1 from s - 1, 2 from s - 2
        if (scratch == null || scratch.LongLength < bytes)
            scratch = new byte[Math.Min(Array.MaxLength, Math.Max(bytes, (scratch?.LongLength ?? 0) * 3 / 2))];   // geometric: few large-object allocations
        byte[] back = scratch;
        var previous = new float[count];
        var current = new float[count];
        int Label(int s) => (s & 1) == 0 ? blank : targets[s >> 1];
        bool CanSkip(int s) => (s & 1) == 1 && s >= 3 && targets[s >> 1] != targets[(s >> 1) - 1];

        previous.AsSpan().Fill(float.NegativeInfinity);
        ReadOnlySpan<float> row = logProbs.Slice(w.Start * vocab, vocab);
        if (w.Carried < 0)
        {
            previous[0] = row[Label(0)];
            if (count > 1)
                previous[1] = row[Label(1)];
        }
        else
        {
            // The first frame continues from the carried state: stay, move by one, or skip a blank.
            for (int s = w.Carried; s <= Math.Min(w.LastState, w.Carried + 2); s++)
                if (s == w.Carried || s == w.Carried + 1 || CanSkip(s))
                    previous[s - w.FirstState] = row[Label(s)];
        }
        for (int t = 1; t < frames; t++)
        {
            row = logProbs.Slice((w.Start + t) * vocab, vocab);
            long rowOffset = (long)t * count;
            for (int i = 0; i < count; i++)
            {
                int s = w.FirstState + i;
                float best = previous[i];
                byte from = 0;
                if (i >= 1 && previous[i - 1] > best)
                    (best, from) = (previous[i - 1], 1);
                if (i >= 2 && CanSkip(s) && previous[i - 2] > best)
                    (best, from) = (previous[i - 2], 2);
                current[i] = best + row[Label(s)];
                SetBack(back, rowOffset + i, from);
            }
            (previous, current) = (current, previous);
        }

        int state;
        if (w.OpenEnd)
        {
            state = Math.Max(0, w.MinEndState - w.FirstState);
            for (int i = state + 1; i < count; i++)
                if (previous[i] > previous[state])
                    state = i;
        }
        else
            state = count >= 2 && !(previous[count - 1] > previous[count - 2]) ? count - 2 : count - 1;
        if (float.IsNegativeInfinity(previous[state]))
            throw new ArgumentException("no path spells the transcript through these frames (a window left too few frames for it)");
        var states = new int[frames];
        for (int t = frames - 1; t >= 0; t--)
        {
            states[t] = w.FirstState + state;
            path[w.Start + t] = Label(states[t]);
            positions[w.Start + t] = (states[t] & 1) == 1 ? states[t] >> 1 : -1;
            if (t > 0)
                state -= GetBack(back, (long)t * count + state);
        }
        return states;
    }

    private static void SetBack(byte[] back, long index, byte from)
    {
        int shift = (int)(index & 3) * 2;
        back[index >> 2] = (byte)((back[index >> 2] & ~(3 << shift)) | (from << shift));
    }

    private static int GetBack(byte[] back, long index) => (back[index >> 2] >> ((int)(index & 3) * 2)) & 3;
}
