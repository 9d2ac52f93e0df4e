namespace Wav2Vec2.Fuzz;

/// <summary>
/// Mutants of fairseq checkpoints (w2v2 convert): the legacy torch.save file (args Namespace) with its pickles' opcodes
/// and lengths damaged, cut or bit-flipped, and the zip one (a pickled omegaconf DictConfig) with its data.pkl damaged.
/// The fairseq reader rebuilds more classes than the plain checkpoint reader (as inert data), so it is fuzzed on its own.
/// </summary>
public static class FairseqMutants
{
    private static readonly string[] Classes = ["legacy pickle opcodes", "legacy pickle lengths", "legacy truncation", "dictconfig pickle opcodes", "dictconfig truncation"];

    /// <summary><paramref name="count"/> mutants drawn from <paramref name="seed"/>, cycling through the classes.</summary>
    public static IEnumerable<Mutant> Generate(Fixtures fixtures, int count, int seed)
        => Mutants.Cycle("fairseq", Classes, count, seed, (kind, r, work) =>
        {
            bool legacy = kind.StartsWith("legacy", StringComparison.Ordinal);
            string source = Path.Combine(fixtures.Directory, "fairseq", legacy ? "ctc_args" : "ctc_dictconfig");
            string checkpoint = Path.Combine(work, "checkpoint.pt");
            File.Copy(Path.Combine(source, "checkpoint.pt"), checkpoint);
            File.Copy(Path.Combine(source, "dict.ltr.txt"), Path.Combine(work, "dict.ltr.txt"));
            string pickleKind = kind.EndsWith("opcodes", StringComparison.Ordinal) ? "pickle opcodes"
                : kind.EndsWith("lengths", StringComparison.Ordinal) ? "pickle lengths" : "pickle truncation";
            if (legacy)
            {
                // The pickles (magic, version, system, object, storage keys) come first; the storages' bytes after them.
                byte[] file = File.ReadAllBytes(checkpoint);
                int pickles = Math.Min(file.Length, 8192);
                byte[] mutated = PickleMutants.MutatePickle(pickleKind, file[..pickles], r);
                File.WriteAllBytes(checkpoint, [.. mutated, .. file[pickles..]]);
            }
            else
                PickleMutants.Rewrite(checkpoint, (name, bytes) => name.EndsWith("/data.pkl", StringComparison.Ordinal) ? PickleMutants.MutatePickle(pickleKind, bytes, r) : bytes);
            return new Invocation(["convert", "--checkpoint", checkpoint, "--out", Path.Combine(work, "converted")], checkpoint);
        });
}
