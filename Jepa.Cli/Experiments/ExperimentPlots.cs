using Jepa.Cli.Support;

namespace Jepa.Cli.Experiments;

/// <summary>The figures of an experiment: <c>results.svg</c> (a bar per config per metric, mean ± std over seeds) and
/// <c>curves.svg</c> (accuracy against the epoch, a line per config with its error bars, a panel per metric).</summary>
public static class ExperimentPlots
{
    /// <summary>The bar chart of the final accuracies, in percent.</summary>
    public static string Bars(ExperimentReport report) =>
        SvgPlot.RenderBars($"{report.Spec.Name}: accuracy, mean ± std over seeds", "accuracy (%)", report.Metrics,
            report.Configs.Select((c, i) => new BarSeries(c.Config.Name, SvgPlot.Color(i),
                report.Metrics.Select(m => (100 * c[m].Mean, 100 * c[m].Std)).ToList())).ToList());

    /// <summary>The accuracy curves, in percent against the epoch.</summary>
    public static string Curves(ExperimentReport report) =>
        SvgPlot.Render($"{report.Spec.Name}: accuracy during training, mean ± std over seeds", "epoch",
            report.Metrics.Select(m => new PlotPanel(m, "accuracy (%)", report.Configs.Select((c, i) =>
            {
                var rows = c.Curve.Where(r => r.Metrics.Any(x => x.Key == m)).ToList();
                var stats = rows.Select(r => r.Metrics.First(x => x.Key == m).Value).ToList();
                return new PlotSeries(c.Config.Name, SvgPlot.Color(i), rows.Select((r, j) => (r.Epoch, 100 * stats[j].Mean)).ToList(),
                    stats.Select(s => 100 * s.Std).ToList());
            }).ToList())).ToList());
}
