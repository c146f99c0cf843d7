using System.Reflection;

namespace LinuxEvent.Compare;

/// <summary>Every workload of this assembly, found by reflection (see <see cref="Workload"/> for how to add one).</summary>
internal static class WorkloadRegistry
{
    private static readonly Lazy<IReadOnlyList<Workload>> s_all = new(Discover);

    public static IReadOnlyList<Workload> All => s_all.Value;

    private static IReadOnlyList<Workload> Discover()
    {
        var list = typeof(Workload).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(Workload).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (Workload)Activator.CreateInstance(t)!)
            .OrderBy(w => w.Group.Order).ThenBy(w => w.Order).ThenBy(w => w.Name, StringComparer.Ordinal)
            .ToList();
        var dup = list.GroupBy(w => w.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InvalidOperationException($"two workloads are named '{dup.Key}'");
        return list;
    }

    public static Workload? Find(string name) => All.FirstOrDefault(w => w.Name == name);

    /// <summary>
    /// The workloads to run for <paramref name="spec"/> ("default", or names separated by commas; "all" = every one), in run
    /// order, with the workloads they depend on added (and a note saying so).
    /// </summary>
    public static List<Workload> Select(string spec, List<string> notes, bool quick = false)
    {
        var chosen = new List<Workload>();
        if (spec is "default" or "") chosen.AddRange(All.Where(w => w.InDefaultSet && (!quick || w.InQuickSet)));
        else if (spec == "all") chosen.AddRange(All);
        else
        {
            foreach (var n in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var w = Find(n) ?? throw new UsageException($"--workloads: unknown workload '{n}' (known: {string.Join(", ", All.Select(x => x.Name))})");
                if (!chosen.Contains(w)) chosen.Add(w);
            }
        }
        if (chosen.Count == 0) throw new UsageException("--workloads: none given");
        for (int i = 0; i < chosen.Count; i++)
        {
            foreach (var dep in chosen[i].DependsOn)
            {
                var d = Find(dep) ?? throw new InvalidOperationException($"{chosen[i].Name} depends on unknown workload '{dep}'");
                if (chosen.Contains(d)) continue;
                chosen.Add(d);
                notes.Add($"workload {d.Name} added: {chosen[i].Name} needs its results");
            }
        }
        // Run order: the registry's order, except that a workload always comes after those it depends on.
        var ordered = new List<Workload>();
        void Visit(Workload w)
        {
            if (ordered.Contains(w)) return;
            foreach (var dep in w.DependsOn) Visit(Find(dep)!);
            ordered.Add(w);
        }
        foreach (var w in All.Where(chosen.Contains)) Visit(w);
        return ordered;
    }
}
