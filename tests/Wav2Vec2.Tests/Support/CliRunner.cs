using Wav2Vec2.Cli;

namespace Wav2Vec2.Tests.Support;

/// <summary>Runs w2v2 in-process, capturing its output.</summary>
internal static class CliRunner
{
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
