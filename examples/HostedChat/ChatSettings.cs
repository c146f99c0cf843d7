using System.Globalization;

namespace LinuxEvent.Examples.HostedChat;

/// <summary>Command-line settings of the hosted chat.</summary>
internal sealed record ChatSettings(LoopModel Model, int Loops, int Port, TimeSpan Drain)
{
    public static ChatSettings Parse(string[] args)
    {
        string? Get(string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        var model = Get("--model") switch
        {
            null or "reactor" => LoopModel.Reactor,
            "proactor" => LoopModel.Proactor,
            var m => throw new ArgumentException($"--model {m}: use reactor or proactor."),
        };
        return new ChatSettings(model,
            int.Parse(Get("--loops") ?? "0", CultureInfo.InvariantCulture),
            int.Parse(Get("--port") ?? "7000", CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(double.Parse(Get("--drain-seconds") ?? "5", CultureInfo.InvariantCulture)));
    }
}
