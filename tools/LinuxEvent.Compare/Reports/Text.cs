using System.Text;

namespace LinuxEvent.Compare;

/// <summary>Plain-text helpers for the terminal: everything printed fits <see cref="Width"/> columns.</summary>
internal static class Text
{
    public const int Width = 100;

    /// <summary>Wraps <paramref name="s"/> at spaces into lines of at most <see cref="Width"/> characters; continuation
    /// lines are indented by <paramref name="indent"/> spaces; a word longer than a line is cut.</summary>
    public static IEnumerable<string> Wrap(string s, int indent = 2)
    {
        string pad = new(' ', indent);
        var line = new StringBuilder();
        bool empty = true;                                   // no word on the current line yet
        foreach (var word in s.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string w = word;
            if (!empty && line.Length + 1 + w.Length > Width)
            {
                yield return line.ToString();
                line.Clear().Append(pad);
                empty = true;
            }
            if (!empty) line.Append(' ');
            while (line.Length + w.Length > Width)
            {
                int room = Width - line.Length;
                yield return line.Append(w[..room]).ToString();
                w = w[room..];
                line.Clear().Append(pad);
            }
            line.Append(w);
            empty = false;
        }
        if (!empty) yield return line.ToString();
    }

    /// <summary>ASCII only: the terminal summary is read with tools that count bytes.</summary>
    public static string Ascii(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s) sb.Append(ch < 128 ? ch : ch switch { 'µ' => 'u', '×' => 'x', '÷' => '/', '–' or '—' => '-', '…' => '.', _ => '?' });
        return sb.ToString();
    }

    /// <summary>Cuts <paramref name="s"/> to <paramref name="max"/> characters.</summary>
    public static string Cut(string s, int max) => s.Length <= max ? s : s[..Math.Max(0, max - 2)] + "..";
}
