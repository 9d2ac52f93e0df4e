using Wav2Vec2.Fuzz;

// w2v2 fuzzer: writes deterministic mutants of the committed fixtures and runs each through the CLI in-process.
//   dotnet run -c Release --project tools/Wav2Vec2.Fuzz -- [checkpoint|pickle|fairseq|arpa|audio|all] [--cases N] [--seed S] [--fixtures DIR] [--show]
// Exit code 1 when any mutant gave a raw message, a crash, a hang or a non-finite output.
string kind = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "all";
string Option(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}
int cases = int.Parse(Option("--cases", "300"), System.Globalization.CultureInfo.InvariantCulture);
int seed = int.Parse(Option("--seed", "24"), System.Globalization.CultureInfo.InvariantCulture);
var fixtures = new Fixtures(Option("--fixtures", Path.Combine(AppContext.BaseDirectory, "../../../../../tests/Wav2Vec2.Tests/Fixtures")));
string work = Directory.CreateTempSubdirectory("w2v2-fuzz-").FullName;
var reports = FuzzRunner.Run(Mutants.Of(kind, fixtures, cases, seed), work, TimeSpan.FromSeconds(60));
FuzzRunner.Print(reports, Console.Out);
if (args.Contains("--show"))
    foreach (ClassReport report in reports)
        foreach (string outcome in report.Outcomes)
            Console.WriteLine($"{report.Name}: {outcome}");
bool failed = reports.Any(r => r.Failures.Count > 0);
if (!failed)
    Directory.Delete(work, recursive: true);
else
    Console.WriteLine($"failing mutants kept in {work}");
return failed ? 1 : 0;
