using System.Globalization;
using System.Text;

namespace Jepa.Cli.Support;

/// <summary>One set of points of a scatter plot in one colour.</summary>
/// <param name="Name">The legend entry.</param>
/// <param name="Color">An SVG colour.</param>
/// <param name="Points">The points.</param>
public sealed record ScatterSeries(string Name, string Color, IReadOnlyList<(double X, double Y)> Points);

public static partial class SvgPlot
{
    /// <summary>
    /// A scatter plot as an SVG: every series' points as dots, and, when <paramref name="links"/> is given, a faint line
    /// between each pair of points it names (series index, point index) — e.g. an example's Text and Code embeddings.
    /// Axes, ticks and grid as in <see cref="Render"/>, the legend in a row below.
    /// </summary>
    public static string RenderScatter(string title, string xLabel, string yLabel, IReadOnlyList<ScatterSeries> series,
        IReadOnlyList<((int Series, int Point) A, (int Series, int Point) B)>? links = null)
    {
        var inv = CultureInfo.InvariantCulture;
        int plotHeight = Width - Left - Right, height = 30 + plotHeight + Top + Bottom + 20, x0 = Left, w = Width - Left - Right, h = plotHeight, y0 = 30 + Top;
        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(inv, $"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{height}\" fill=\"white\"/>\n");
        sb.Append(inv, $"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Esc(title)}</text>\n");
        var all = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        if (all.Count == 0)
        {
            sb.Append(inv, $"<rect x=\"{x0}\" y=\"{y0}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#999\"/>\n");
            sb.Append(inv, $"<text x=\"{x0 + w / 2}\" y=\"{y0 + h / 2}\" text-anchor=\"middle\" fill=\"#666\">no data</text>\n</svg>\n");
            return sb.ToString();
        }
        var (xLo, xHi, xStep) = NiceRange(all.Min(p => p.X), all.Max(p => p.X));
        var (yLo, yHi, yStep) = NiceRange(all.Min(p => p.Y), all.Max(p => p.Y));
        double X(double x) => x0 + (x - xLo) / (xHi - xLo) * w;
        double Y(double y) => y0 + h - (y - yLo) / (yHi - yLo) * h;

        sb.Append("<g class=\"ticks\">\n");
        for (double t = yLo; t <= yHi + yStep / 2; t += yStep)
        {
            sb.Append(inv, $"<line x1=\"{x0}\" y1=\"{Y(t):F1}\" x2=\"{x0 + w}\" y2=\"{Y(t):F1}\" stroke=\"#e5e5e5\"/>\n");
            sb.Append(inv, $"<text x=\"{x0 - 8}\" y=\"{Y(t) + 4:F1}\" text-anchor=\"end\">{Label(t, yStep)}</text>\n");
        }
        for (double t = xLo; t <= xHi + xStep / 2; t += xStep)
        {
            sb.Append(inv, $"<line x1=\"{X(t):F1}\" y1=\"{y0}\" x2=\"{X(t):F1}\" y2=\"{y0 + h}\" stroke=\"#e5e5e5\"/>\n");
            sb.Append(inv, $"<text x=\"{X(t):F1}\" y=\"{y0 + h + 18}\" text-anchor=\"middle\">{Label(t, xStep)}</text>\n");
        }
        sb.Append("</g>\n");
        sb.Append(inv, $"<rect x=\"{x0}\" y=\"{y0}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"black\"/>\n");
        sb.Append(inv, $"<text x=\"{x0 + w / 2}\" y=\"{y0 + h + 36}\" text-anchor=\"middle\">{Esc(xLabel)}</text>\n");
        sb.Append(inv, $"<text transform=\"translate({x0 - 52},{y0 + h / 2}) rotate(-90)\" text-anchor=\"middle\">{Esc(yLabel)}</text>\n");

        if (links is not null)
        {
            sb.Append("<g class=\"links\" stroke=\"#bbb\" stroke-width=\"0.6\">\n");
            foreach (var (a, b) in links)
            {
                var p = series[a.Series].Points[a.Point];
                var q = series[b.Series].Points[b.Point];
                sb.Append(inv, $"<line x1=\"{X(p.X):F1}\" y1=\"{Y(p.Y):F1}\" x2=\"{X(q.X):F1}\" y2=\"{Y(q.Y):F1}\"/>\n");
            }
            sb.Append("</g>\n");
        }
        foreach (var s in series)
        {
            sb.Append(inv, $"<g class=\"points\" fill=\"{Esc(s.Color)}\" fill-opacity=\"0.75\">\n");
            foreach (var p in s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)))
                sb.Append(inv, $"<circle cx=\"{X(p.X):F1}\" cy=\"{Y(p.Y):F1}\" r=\"2.5\"/>\n");
            sb.Append("</g>\n");
        }
        double lx = x0;
        sb.Append("<g class=\"legend\">\n");
        foreach (var s in series)
        {
            sb.Append(inv, $"<circle cx=\"{lx + 6:F1}\" cy=\"{y0 + h + 51}\" r=\"4\" fill=\"{Esc(s.Color)}\"/>");
            sb.Append(inv, $"<text x=\"{lx + 16:F1}\" y=\"{y0 + h + 55}\">{Esc(s.Name)}</text>\n");
            lx += 40 + 7 * s.Name.Length;
        }
        sb.Append("</g>\n</svg>\n");
        return sb.ToString();
    }
}
