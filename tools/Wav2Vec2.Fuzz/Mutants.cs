namespace Wav2Vec2.Fuzz;

/// <summary>The mutant generators by kind.</summary>
public static class Mutants
{
    /// <summary>The kinds: checkpoint (safetensors and config.json), pickle (torch.save zip), fairseq (.pt in both
    /// torch.save formats), arpa (plain and gzip), audio (every format AudioFile reads).</summary>
    public static readonly string[] Kinds = ["checkpoint", "pickle", "fairseq", "arpa", "audio"];

    /// <summary><paramref name="count"/> mutants of <paramref name="kind"/> ("all": that many of each kind).</summary>
    public static IEnumerable<Mutant> Of(string kind, Fixtures fixtures, int count, int seed) => kind switch
    {
        "checkpoint" => CheckpointMutants.Generate(fixtures, count, seed),
        "pickle" => PickleMutants.Generate(fixtures, count, seed),
        "fairseq" => FairseqMutants.Generate(fixtures, count, seed),
        "arpa" => ArpaMutants.Generate(fixtures, count, seed),
        "audio" => AudioMutants.Generate(fixtures, count, seed),
        "all" => Kinds.SelectMany(k => Of(k, fixtures, count, seed)),
        _ => throw new ArgumentException($"unknown kind '{kind}' ({string.Join(", ", Kinds)}, all)"),
    };

    /// <summary>
    /// <paramref name="count"/> mutants cycling through <paramref name="classes"/>, each with its own seed drawn from
    /// <paramref name="seed"/>, written by <paramref name="write"/> (class, the mutant's random source, work directory).
    /// </summary>
    public static IEnumerable<Mutant> Cycle(string kind, string[] classes, int count, int seed, Func<string, Random, string, Invocation> write)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            string name = classes[i % classes.Length];
            int caseSeed = random.Next();
            yield return new Mutant($"{kind}: {name}", $"{name} #{i} (seed {caseSeed})", work => write(name, new Random(caseSeed), work));
        }
    }
}
