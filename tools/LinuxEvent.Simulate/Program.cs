using LinuxEvent;
using System.Globalization;
using LinuxEvent.Simulate;
using LinuxEvent.Simulate.Chat;
using LinuxEvent.Simulate.Redis;
using LinuxEvent.Simulation;

// LinuxEvent.Simulate: runs a scenario's seeds on the simulated network (LinuxEvent.Simulation).
//
//   dotnet run -c Release --project tools/LinuxEvent.Simulate -- --scenario chat --seeds 1000 [--model reactor|proactor|both]
//   dotnet run -c Release --project tools/LinuxEvent.Simulate -- --scenario chat --seed 42 --model proactor --trace
// --scenario defaults to chat.
//
// The last line is always: simulate: NAME N seeds, F failed, trace-hash H, R seeds/min
// (H: a hash over every run's trace, in seed order: the same seeds give the same H; R: seeds per minute of wall time).
// A failed seed prints its failure and the one command that replays it. Exit code: 0 all passed, 1 a seed failed,
// 2 bad arguments.

var scenarios = new Dictionary<string, Func<Scenario>>(StringComparer.Ordinal)
{
    ["chat"] = () => new ChatScenario(),
    ["redis"] = () => new RedisScenario(),
    // A deliberately broken room (loses the rest of a line a short read leaves behind): the simulation must catch it.
    ["chat-broken"] = () => new ChatScenario(LineDroppingChatRoom.RunAsync, "chat-broken"),
};
string? name = "chat", modelArg = "both";          // chat when --scenario is not given
ulong first = 1;
int count = 0;
bool single = false, trace = false, noFaults = false;
int threads = Environment.ProcessorCount;
for (int i = 0; i < args.Length; i++)
{
    string? value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--scenario" when value is not null: name = value; i++; break;
        case "--seeds" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count > 0: i++; break;
        case "--seed" when ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out first): single = true; count = 1; i++; break;
        case "--first" when ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out first): i++; break;
        case "--model" when value is "reactor" or "proactor" or "both": modelArg = value; i++; break;
        case "--threads" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out threads) && threads > 0: i++; break;
        case "--trace": trace = true; break;
        case "--no-faults": noFaults = true; break;
        default: return Usage($"unknown or incomplete argument '{args[i]}'");
    }
}
if (name is null || !scenarios.TryGetValue(name, out var create)) return Usage($"--scenario must be one of: {string.Join(", ", scenarios.Keys)}");
if (count == 0) return Usage("give --seeds N or --seed S");
LoopModel[] models = modelArg switch
{
    "reactor" => [LoopModel.Reactor],
    "proactor" => [LoopModel.Proactor],
    _ => [LoopModel.Reactor, LoopModel.Proactor],
};

var scenario = create();
var batch = Runner.Run(scenario, first, count, models, single ? 1 : threads, recordTrace: trace && single, noFaults ? FaultProfile.None : null);
foreach (var o in batch.Outcomes)
{
    if (single && trace)
    {
        Console.WriteLine($"# {o.Scenario} seed {o.Seed} on the {Scenario.ModelName(o.Model)} model: {o.TraceLines.Count} trace lines, hash {o.TraceHash:x16}");
        foreach (var line in o.TraceLines) Console.WriteLine(line);
    }
    if (!o.Passed) Console.WriteLine(o.Describe());
    else if (single) Console.WriteLine($"{o.Scenario} seed {o.Seed} ({Scenario.ModelName(o.Model)}): passed (this run's trace hashes to {o.TraceHash:x16})");
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"simulate: {scenario.Name} {batch.Seeds} seeds, {batch.FailedSeeds} failed, trace-hash {batch.TraceHash:x16}, {batch.SeedsPerMinute:0} seeds/min"));
return batch.FailedSeeds == 0 ? 0 : 1;

static int Usage(string problem)
{
    Console.Error.WriteLine($"simulate: {problem}");
    Console.Error.WriteLine("usage: LinuxEvent.Simulate [--scenario chat|redis|chat-broken] (--seeds N [--first S] | --seed S [--trace]) [--model reactor|proactor|both] [--threads T] [--no-faults]");
    return 2;
}
