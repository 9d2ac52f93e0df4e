// Test classes run in parallel on all cores. Tests that change process-wide settings (thread count, kernel path) or
// measure process-wide quantities (allocated bytes) carry [DoNotParallelize] and run alone, after the others.
[assembly: Parallelize(Scope = ExecutionScope.ClassLevel, Workers = 0)]
