using System.Globalization;
using System.Security;
using System.Text;

namespace Jepa.Cli.Support;

/// <summary>A named line of (x, y) points in one colour.</summary>
/// <param name="Name">The legend entry.</param>
/// <param name="Color">An SVG colour, e.g. <c>#1f77b4</c>.</param>
/// <param name="Points">The points, in x order.</param>
/// <param name="Errors">Half-lengths of vertical error bars, one per point (NaN: none), or null for no error bars.</param>
public sealed record PlotSeries(string Name, string Color, IReadOnlyList<(double X, double Y)> Points, IReadOnlyList<double>? Errors = null)
{
    /// <summary>The error bar of point <paramref name="i"/> (0 when there is none).</summary>
    public double Error(int i) => Errors is { } e && i < e.Count && double.IsFinite(e[i]) ? e[i] : 0;
}

/// <summary>One panel of a figure: a title, a y-axis label and its lines (all sharing the figure's x range).</summary>
/// <param name="Title">Shown above the panel.</param>
/// <param name="YLabel">The y-axis label.</param>
/// <param name="Series">The lines.</param>
public sealed record PlotPanel(string Title, string YLabel, IReadOnlyList<PlotSeries> Series);

/// <summary>
/// Writes line charts as a self-contained SVG: panels stacked vertically, each with axes, "nice" ticks
/// (1, 2 or 5 × 10ⁿ), grid lines, optional error bars, a legend and a title; a panel without points says so.
/// Bar charts with error bars are in SvgPlot.Bars.cs.
/// </summary>
public static partial class SvgPlot
{
    private const int Width = 820, PanelHeight = 300, Left = 72, Right = 24, Top = 40, Bottom = 48;

    /// <summary>Distinct colours for series, in order (matplotlib's "tab10").</summary>
    public static IReadOnlyList<string> Palette { get; } =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>The colour of series <paramref name="i"/> (the palette, repeated).</summary>
    public static string Color(int i) => Palette[i % Palette.Count];

    /// <summary>The SVG document for <paramref name="panels"/>, with <paramref name="xLabel"/> under each panel.</summary>
    public static string Render(string title, string xLabel, IReadOnlyList<PlotPanel> panels)
    {
        var inv = CultureInfo.InvariantCulture;
        int height = 30 + panels.Count * (PanelHeight + Top + Bottom);
        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(inv, $"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{height}\" fill=\"white\"/>\n");
        sb.Append(inv, $"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Esc(title)}</text>\n");
        var allX = panels.SelectMany(p => p.Series).SelectMany(s => s.Points).Select(p => p.X).ToList();
        double xMin = allX.Count > 0 ? allX.Min() : 0, xMax = allX.Count > 0 ? allX.Max() : 1;
        for (int i = 0; i < panels.Count; i++)
            Panel(sb, panels[i], 30 + i * (PanelHeight + Top + Bottom) + Top, xMin, xMax, xLabel);
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void Panel(StringBuilder sb, PlotPanel panel, int y0, double xMin, double xMax, string xLabel)
    {
        var inv = CultureInfo.InvariantCulture;
        int x0 = Left, w = Width - Left - Right, h = PanelHeight;
        sb.Append(inv, $"<g class=\"panel\">\n<text x=\"{x0 + w / 2}\" y=\"{y0 - 12}\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{Esc(panel.Title)}</text>\n");
        var ys = panel.Series.SelectMany(s => s.Points.SelectMany((p, i) => (double[])[p.Y - s.Error(i), p.Y + s.Error(i)])).Where(double.IsFinite).ToList();
        if (ys.Count == 0)
        {
            sb.Append(inv, $"<rect x=\"{x0}\" y=\"{y0}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#999\"/>\n");
            sb.Append(inv, $"<text x=\"{x0 + w / 2}\" y=\"{y0 + h / 2}\" text-anchor=\"middle\" fill=\"#666\">no data</text>\n</g>\n");
            return;
        }
        var (yMin, yMax, yStep) = NiceRange(ys.Min(), ys.Max());
        var (xLo, xHi, xStep) = NiceRange(xMin, xMax);
        double X(double x) => x0 + (x - xLo) / (xHi - xLo) * w;
        double Y(double y) => y0 + h - (y - yMin) / (yMax - yMin) * h;

        // Grid and ticks.
        sb.Append("<g stroke=\"#e5e5e5\">\n");
        for (double t = yMin; t <= yMax + yStep / 2; t += yStep) sb.Append(inv, $"<line x1=\"{x0}\" y1=\"{Y(t):F1}\" x2=\"{x0 + w}\" y2=\"{Y(t):F1}\"/>\n");
        for (double t = xLo; t <= xHi + xStep / 2; t += xStep) sb.Append(inv, $"<line x1=\"{X(t):F1}\" y1=\"{y0}\" x2=\"{X(t):F1}\" y2=\"{y0 + h}\"/>\n");
        sb.Append("</g>\n<g class=\"ticks\">\n");
        for (double t = yMin; t <= yMax + yStep / 2; t += yStep)
        {
            sb.Append(inv, $"<line x1=\"{x0 - 5}\" y1=\"{Y(t):F1}\" x2=\"{x0}\" y2=\"{Y(t):F1}\" stroke=\"black\"/>\n");
            sb.Append(inv, $"<text x=\"{x0 - 8}\" y=\"{Y(t) + 4:F1}\" text-anchor=\"end\">{Label(t, yStep)}</text>\n");
        }
        for (double t = xLo; t <= xHi + xStep / 2; t += xStep)
        {
            sb.Append(inv, $"<line x1=\"{X(t):F1}\" y1=\"{y0 + h}\" x2=\"{X(t):F1}\" y2=\"{y0 + h + 5}\" stroke=\"black\"/>\n");
            sb.Append(inv, $"<text x=\"{X(t):F1}\" y=\"{y0 + h + 18}\" text-anchor=\"middle\">{Label(t, xStep)}</text>\n");
        }
        sb.Append("</g>\n");
        // Axes and labels.
        sb.Append(inv, $"<line x1=\"{x0}\" y1=\"{y0 + h}\" x2=\"{x0 + w}\" y2=\"{y0 + h}\" stroke=\"black\"/>\n");
        sb.Append(inv, $"<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y0 + h}\" stroke=\"black\"/>\n");
        sb.Append(inv, $"<text x=\"{x0 + w / 2}\" y=\"{y0 + h + 36}\" text-anchor=\"middle\">{Esc(xLabel)}</text>\n");
        sb.Append(inv, $"<text transform=\"translate({x0 - 52},{y0 + h / 2}) rotate(-90)\" text-anchor=\"middle\">{Esc(panel.YLabel)}</text>\n");
        // Lines.
        foreach (var s in panel.Series)
        {
            var pts = s.Points.Where(p => double.IsFinite(p.Y)).ToList();
            if (pts.Count == 0) continue;
            sb.Append(inv, $"<polyline fill=\"none\" stroke=\"{Esc(s.Color)}\" stroke-width=\"1.5\" points=\"");
            foreach (var p in pts) sb.Append(inv, $"{X(p.X):F1},{Y(p.Y):F1} ");
            sb.Length--;
            sb.Append("\"/>\n");
            for (int i = 0; i < s.Points.Count; i++)
            {
                var (x, y) = s.Points[i];
                double e = s.Error(i);
                if (e > 0 && double.IsFinite(y)) ErrorBar(sb, X(x), Y(y - e), Y(y + e), s.Color);
            }
        }
        // Legend (top right).
        var named = panel.Series.Where(s => s.Points.Any(p => double.IsFinite(p.Y))).ToList();
        int lw = 40 + 7 * named.Select(s => s.Name.Length).DefaultIfEmpty(0).Max(), lx = x0 + w - lw - 8, ly = y0 + 8;
        sb.Append(inv, $"<g class=\"legend\"><rect x=\"{lx}\" y=\"{ly}\" width=\"{lw}\" height=\"{8 + 18 * named.Count}\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n");
        for (int i = 0; i < named.Count; i++)
        {
            int yy = ly + 16 + 18 * i;
            sb.Append(inv, $"<line x1=\"{lx + 8}\" y1=\"{yy - 4}\" x2=\"{lx + 28}\" y2=\"{yy - 4}\" stroke=\"{Esc(named[i].Color)}\" stroke-width=\"2\"/>");
            sb.Append(inv, $"<text x=\"{lx + 34}\" y=\"{yy}\">{Esc(named[i].Name)}</text>\n");
        }
        sb.Append("</g>\n</g>\n");
    }

    /// <summary>A vertical error bar at <paramref name="x"/> from <paramref name="y1"/> to <paramref name="y2"/> (SVG coordinates), with caps.</summary>
    private static void ErrorBar(StringBuilder sb, double x, double y1, double y2, string color)
    {
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"<path class=\"error\" d=\"M{x:F1},{y1:F1}V{y2:F1}M{x - 4:F1},{y1:F1}h8M{x - 4:F1},{y2:F1}h8\" stroke=\"{Esc(color)}\" fill=\"none\"/>\n");
    }

    /// <summary>A range covering [lo, hi] with about five ticks at 1, 2 or 5 × 10ⁿ.</summary>
    public static (double Min, double Max, double Step) NiceRange(double lo, double hi)
    {
        if (!(hi > lo))
        {
            double pad = Math.Abs(lo) > 0 ? Math.Abs(lo) * 0.1 : 1;
            lo -= pad;
            hi += pad;
        }
        double raw = (hi - lo) / 5, mag = Math.Pow(10, Math.Floor(Math.Log10(raw))), r = raw / mag;
        double step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
        return (Math.Floor(lo / step) * step, Math.Ceiling(hi / step) * step, step);
    }

    private static string Label(double v, double step)
    {
        int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
        if (Math.Abs(v) < step * 1e-6) v = 0;
        return v.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    private static string Esc(string s) => SecurityElement.Escape(s) ?? "";
}
