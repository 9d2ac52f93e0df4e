using Wav2Vec2.Kernels;

namespace Wav2Vec2.Benchmarks;

/// <summary>`gemm M N K`: GFLOP/s of <see cref="Gemm.Sgemm"/> on random matrices, all configured cores.</summary>
internal static class GemmBenchmark
{
    private const int BurstRuns = 5;

    public static int Run(BenchmarkOptions options)
    {
        int m = options.PositionalInt(0, "M"), n = options.PositionalInt(1, "N"), k = options.PositionalInt(2, "K");
        // --transpose-b: B stored (N, K) as a Linear layer's weight; --transpose-a: A stored (K, M).
        bool transA = options.Named.ContainsKey("transpose-a"), transB = options.Named.ContainsKey("transpose-b");
        var random = new Random(0);
        float[] a = RandomMatrix(random, m * k), b = RandomMatrix(random, k * n), c = new float[m * n];
        void Ours() => Gemm.Sgemm(transA, transB, m, n, k, 1f, a, transA ? m : k, b, transB ? k : n, 0f, c, n);
        double flop = 2.0 * m * n * k;
        if (options.Int8())
            return CompareInt8(options, m, n, k, a, b, c, flop);
        string line = $"gemm m={m} n={n} k={k} ta={transA} tb={transB} threads={options.Threads} path={KernelPaths.Effective}";
        double seconds;
        if (options.Reference)
        {
            // numpy in a server process, called in turns with ours so that both see the same machine (ours warmed up
            // once first, as the JIT needs). Each turn is a burst: one untimed multiply (wakes the worker threads and the
            // cores) and BurstRuns timed back to back.
            using var numpy = new NumpyGemm(m, n, k, options.Threads);
            BenchmarkApp.WarmUp(Ours);
            var ours = new double[options.Runs];
            var theirs = new double[options.Runs];
            for (int i = 0; i < options.Runs; i++)
            {
                // OpenBLAS's and .NET's worker threads spin for a while after a multiply: let them go idle first.
                Thread.Sleep(BenchmarkApp.SettleMilliseconds);
                Ours();
                ours[i] = BenchmarkApp.MedianOfWarmRuns(Ours, BurstRuns);
                Thread.Sleep(BenchmarkApp.SettleMilliseconds);
                theirs[i] = numpy.Run(BurstRuns);
            }
            seconds = BenchmarkApp.Median(ours);
            double reference = BenchmarkApp.Median(theirs);
            line += $" reference_gflops={BenchmarkApp.Format(flop / reference / 1e9)} " +
                    $"ratio={BenchmarkApp.Format(reference / seconds)}";
        }
        else
            seconds = BenchmarkApp.MedianSeconds(Ours, options.Runs);
        double gflops = flop / seconds / 1e9;
        line += $" median_s={BenchmarkApp.Format(seconds)}";
        Console.WriteLine($"{line} gflops={BenchmarkApp.Format(gflops)}");
        return 0;
    }

    // --precision int8: a linear layer's int8 product (A quantised per row as it is read, B = W (N, K) quantised once)
    // against the fp32 product of the same shape (B transposed), interleaved.
    private static int CompareInt8(BenchmarkOptions options, int m, int n, int k, float[] a, float[] w, float[] c, double flop)
    {
        var weights = Int8Weights.Quantize(w, n, k);
        var quantized = new byte[m * weights.PaddedColumns];
        void Int8() => Int8Gemm.Multiply(ActivationQuantizer.QuantizeRows(a, m, k, weights.PaddedColumns, quantized), [weights], c, n, [], false);
        void Fp32() => Gemm.Sgemm(false, true, m, n, k, 1f, a, k, w, k, 0f, c, n);
        double[] medians = BenchmarkApp.InterleavedMedians(options.Runs, Int8, Fp32);
        Console.WriteLine($"gemm m={m} n={n} k={k} threads={options.Threads} precision=int8 int8_path={Int8Gemm.Effective} " +
                          $"int8_gflops={BenchmarkApp.Format(flop / medians[0] / 1e9)} fp32_gflops={BenchmarkApp.Format(flop / medians[1] / 1e9)} " +
                          $"int8_vs_fp32={BenchmarkApp.Format(medians[0] / medians[1])}");
        return 0;
    }

    /// <summary>tools/numpy_gemm_server.py: numpy + OpenBLAS on the same shape, one timed multiply per call.</summary>
    private sealed class NumpyGemm : IDisposable
    {
        private readonly System.Diagnostics.Process _process;

        public NumpyGemm(int m, int n, int k, int threads)
        {
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3")
            {
                RedirectStandardInput = true, RedirectStandardOutput = true,
            };
            start.ArgumentList.Add(ReferenceRunner.FindScript(Path.Combine("tools", "numpy_gemm_server.py"), "W2V2_NUMPY_GEMM"));
            foreach (int size in new[] { m, n, k })
                start.ArgumentList.Add(size.ToString(System.Globalization.CultureInfo.InvariantCulture));
            start.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _process = System.Diagnostics.Process.Start(start) ?? throw new BenchmarkUsageException("could not start python3");
            if (_process.StandardOutput.ReadLine() != "ready")
                throw new BenchmarkUsageException("numpy_gemm_server.py did not start (python3-numpy installed?)");
        }

        /// <summary>Median seconds of <paramref name="runs"/> warm numpy multiplies, timed inside the server (no pipe latency).</summary>
        public double Run(int runs)
        {
            _process.StandardInput.WriteLine($"run {runs}");
            string? answer = _process.StandardOutput.ReadLine();
            return double.TryParse(answer, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture,
                out double seconds) ? seconds : throw new BenchmarkUsageException($"numpy_gemm_server.py answered '{answer}'");
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            _process.WaitForExit();
            _process.Dispose();
        }
    }

    private static float[] RandomMatrix(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = (float)random.NextDouble();
        return values;
    }
}
