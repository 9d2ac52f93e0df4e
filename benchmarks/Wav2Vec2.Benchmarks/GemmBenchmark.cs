using Wav2Vec2.Kernels;

namespace Wav2Vec2.Benchmarks;

/// <summary>`gemm M N K`: GFLOP/s of <see cref="Gemm.Sgemm"/> on random matrices, all configured cores.</summary>
internal static class GemmBenchmark
{
    public static int Run(BenchmarkOptions options)
    {
        int m = options.PositionalInt(0, "M"), n = options.PositionalInt(1, "N"), k = options.PositionalInt(2, "K");
        var random = new Random(0);
        float[] a = RandomMatrix(random, m * k), b = RandomMatrix(random, k * n), c = new float[m * n];
        double seconds = BenchmarkApp.MedianSeconds(
            () => Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n), options.Runs);
        double gflops = 2.0 * m * n * k / seconds / 1e9;
        string line = $"gemm m={m} n={n} k={k} threads={options.Threads} path={Gemm.EffectivePath} " +
                      $"median_s={BenchmarkApp.Format(seconds)}";
        if (options.Reference)
        {
            double reference = ReferenceRunner.Measure("gemm", m.ToString(), n.ToString(), k.ToString());
            line += $" reference_gflops={BenchmarkApp.Format(reference)} ratio={BenchmarkApp.Format(gflops / reference)}";
        }
        Console.WriteLine($"{line} gflops={BenchmarkApp.Format(gflops)}");
        return 0;
    }

    private static float[] RandomMatrix(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = (float)random.NextDouble();
        return values;
    }
}
