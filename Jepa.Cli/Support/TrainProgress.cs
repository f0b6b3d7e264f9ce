using System.Diagnostics;
using System.Globalization;
using Jepa.Training.Objective;

namespace Jepa.Cli.Support;

/// <summary>
/// Training progress: a single line on standard error redrawn in place when it is a terminal (step/total, bar,
/// ETA, tokens/s, lm loss, jepa loss, cosine, the regularisers and the last matched-minus-mismatched cosine gap), plain lines every twentieth of the run otherwise, or with
/// <c>--json</c> one JSON object per step on standard output.
/// </summary>
public sealed class TrainProgress : IProgress<StepMetrics>
{
    private readonly CliContext _context;
    private readonly bool _json;
    private readonly int _total, _every;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _firstStep = -1;
    private double _firstStepAt;
    private int _lineLength;
    private string _lastLine = "";
    private double _lastGap = double.NaN;

    /// <summary>Reports steps up to <paramref name="totalSteps"/>.</summary>
    public TrainProgress(CliContext context, int totalSteps, bool json)
    {
        _context = context;
        _json = json;
        _total = totalSteps;
        _every = Math.Max(1, totalSteps / 20);
    }

    /// <summary>Seconds since the progress started.</summary>
    public double Elapsed => _clock.Elapsed.TotalSeconds;

    /// <inheritdoc />
    public void Report(StepMetrics m)
    {
        double now = Elapsed;
        if (_firstStep < 0) { _firstStep = m.Step; _firstStepAt = now; }
        double? eta = m.Step > _firstStep ? (now - _firstStepAt) / (m.Step - _firstStep) * (_total - m.Step) : null;
        if (_json)
        {
            _context.Out.WriteLine(JsonLine.Of(new Dictionary<string, object?>
            {
                ["type"] = "step", ["step"] = m.Step, ["total"] = _total, ["lm_loss"] = m.LmLoss, ["jepa_loss"] = m.JepaLoss,
                ["cosine"] = m.Cosine, ["lr"] = m.LearningRate, ["grad_norm"] = m.GradNorm, ["tokens_per_s"] = m.TokensPerSecond,
                ["jepa_skipped"] = m.JepaSkipped, ["sigreg"] = Finite(m.SigRegLoss), ["vicreg"] = Finite(m.VicRegLoss),
                ["pair_gap"] = Finite(m.PairGap), ["text_spread"] = Finite(m.TextSpread), ["code_spread"] = Finite(m.CodeSpread), ["elapsed_s"] = Math.Round(now, 3), ["eta_s"] = eta is { } e ? Math.Round(e, 1) : null,
            }));
            _context.Out.Flush();
            return;
        }
        string line = Line(m, eta);
        if (_context.ErrorIsTerminal) Redraw(line);
        else if (m.Step % _every == 0 || m.Step == _total || m.Step == _firstStep) _context.Error.WriteLine(line);
    }

    private static double? Finite(double x) => double.IsFinite(x) ? x : null;

    private string Line(StepMetrics m, double? eta)
    {
        if (!double.IsNaN(m.PairGap)) _lastGap = m.PairGap;
        var inv = CultureInfo.InvariantCulture;
        int width = _total.ToString(inv).Length;
        string head = $"step {m.Step.ToString(inv).PadLeft(width)}/{_total}";
        string tail = string.Create(inv, $" ETA {Duration(eta)}  {m.TokensPerSecond,7:F0} tok/s  lm {m.LmLoss:F3}")
            + (double.IsNaN(m.JepaLoss) ? "" : string.Create(inv, $"  jepa {m.JepaLoss:F3}  cos {m.Cosine:F3}"))
            + (double.IsNaN(m.SigRegLoss) ? "" : string.Create(inv, $"  sigreg {m.SigRegLoss:F2}"))
            + (double.IsNaN(m.VicRegLoss) ? "" : string.Create(inv, $"  vicreg {m.VicRegLoss:F3}"))
            + (double.IsNaN(_lastGap) || double.IsNaN(m.JepaLoss) ? "" : string.Create(inv, $"  gap {_lastGap:F2}"));
        if (!_context.ErrorIsTerminal) return head + tail;
        int bar = Math.Clamp(_context.Width - head.Length - tail.Length - 4, 0, 30);
        if (bar < 5) return head + tail;
        int filled = (int)Math.Round(bar * (double)m.Step / Math.Max(1, _total));
        return $"{head} [{new string('=', filled)}{new string(' ', bar - filled)}]{tail}";
    }

    /// <summary>A duration as <c>1h02m</c>, <c>3m05s</c> or <c>42s</c>; <c>?</c> when unknown.</summary>
    public static string Duration(double? seconds)
    {
        if (seconds is not { } s || !double.IsFinite(s)) return "?";
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Round(s)));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
    }

    private void Redraw(string line)
    {
        int width = _context.Width;
        if (line.Length >= width) line = line[..(width - 1)];
        _lastLine = line;
        _context.Error.Write("\r" + line + (line.Length < _lineLength ? new string(' ', _lineLength - line.Length) : ""));
        _context.Error.Flush();
        _lineLength = line.Length;
    }

    /// <summary>Writes a message on its own line(s), keeping the progress line below it.</summary>
    public void Message(string message)
    {
        if (_context.ErrorIsTerminal && _lineLength > 0)
        {
            _context.Error.Write("\r" + new string(' ', _lineLength) + "\r");
            _context.Error.WriteLine(message);
            _lineLength = 0;
            Redraw(_lastLine);
            return;
        }
        _context.Error.WriteLine(message);
    }

    /// <summary>Ends the progress line.</summary>
    public void Finish()
    {
        if (_context.ErrorIsTerminal && _lineLength > 0) _context.Error.WriteLine();
        _lineLength = 0;
    }
}
