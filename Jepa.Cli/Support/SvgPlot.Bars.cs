using System.Globalization;
using System.Text;

namespace Jepa.Cli.Support;

/// <summary>One series of a bar chart: a bar per group, each with an error bar.</summary>
/// <param name="Name">The legend entry.</param>
/// <param name="Color">An SVG colour.</param>
/// <param name="Bars">One (value, error) per group, in group order; a NaN value draws no bar, a NaN or 0 error no error bar.</param>
public sealed record BarSeries(string Name, string Color, IReadOnlyList<(double Value, double Error)> Bars);

public static partial class SvgPlot
{
    /// <summary>
    /// A grouped bar chart as an SVG: one group per entry of <paramref name="groups"/> along x, in each a bar per series
    /// with its error bar (value ± error) and its value printed above; axes, ticks and grid as in <see cref="Render"/>, the legend in a
    /// row below.
    /// </summary>
    public static string RenderBars(string title, string yLabel, IReadOnlyList<string> groups, IReadOnlyList<BarSeries> series)
    {
        var inv = CultureInfo.InvariantCulture;
        int height = 30 + PanelHeight + Top + Bottom, x0 = Left, w = Width - Left - Right, h = PanelHeight, y0 = 30 + Top;
        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(inv, $"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{height}\" fill=\"white\"/>\n");
        sb.Append(inv, $"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Esc(title)}</text>\n");
        var ends = series.SelectMany(s => s.Bars).Where(b => double.IsFinite(b.Value))
            .SelectMany(b => (double[])[b.Value, b.Value + (double.IsFinite(b.Error) ? b.Error : 0), b.Value - (double.IsFinite(b.Error) ? b.Error : 0)]).ToList();
        if (ends.Count == 0 || groups.Count == 0)
        {
            sb.Append(inv, $"<rect x=\"{x0}\" y=\"{y0}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#999\"/>\n");
            sb.Append(inv, $"<text x=\"{x0 + w / 2}\" y=\"{y0 + h / 2}\" text-anchor=\"middle\" fill=\"#666\">no data</text>\n</svg>\n");
            return sb.ToString();
        }
        double lo = Math.Min(0, ends.Min()), hi = Math.Max(0, ends.Max());
        var (yMin, yMax, yStep) = NiceRange(lo, hi + 0.08 * (hi - lo)); // room for the value labels
        double Y(double y) => y0 + h - (y - yMin) / (yMax - yMin) * h;

        sb.Append("<g class=\"ticks\">\n");
        for (double t = yMin; t <= yMax + yStep / 2; t += yStep)
        {
            sb.Append(inv, $"<line x1=\"{x0}\" y1=\"{Y(t):F1}\" x2=\"{x0 + w}\" y2=\"{Y(t):F1}\" stroke=\"#e5e5e5\"/>\n");
            sb.Append(inv, $"<line x1=\"{x0 - 5}\" y1=\"{Y(t):F1}\" x2=\"{x0}\" y2=\"{Y(t):F1}\" stroke=\"black\"/>\n");
            sb.Append(inv, $"<text x=\"{x0 - 8}\" y=\"{Y(t) + 4:F1}\" text-anchor=\"end\">{Label(t, yStep)}</text>\n");
        }
        sb.Append("</g>\n");

        double groupWidth = (double)w / groups.Count, barWidth = groupWidth * 0.8 / Math.Max(1, series.Count);
        for (int g = 0; g < groups.Count; g++)
        {
            double gx = x0 + g * groupWidth + groupWidth * 0.1;
            sb.Append(inv, $"<text x=\"{x0 + (g + 0.5) * groupWidth:F1}\" y=\"{y0 + h + 18}\" text-anchor=\"middle\">{Esc(groups[g])}</text>\n");
            for (int s = 0; s < series.Count; s++)
            {
                if (g >= series[s].Bars.Count) continue;
                var (value, error) = series[s].Bars[g];
                if (!double.IsFinite(value)) continue;
                double bx = gx + s * barWidth, top = Math.Min(Y(value), Y(0)), bottom = Math.Max(Y(value), Y(0)), cx = bx + barWidth / 2;
                sb.Append(inv, $"<rect class=\"bar\" x=\"{bx + 1:F1}\" y=\"{top:F1}\" width=\"{Math.Max(1, barWidth - 2):F1}\" height=\"{bottom - top:F1}\" fill=\"{Esc(series[s].Color)}\"/>\n");
                double e = double.IsFinite(error) ? error : 0;
                if (e > 0) ErrorBar(sb, cx, Y(value - e), Y(value + e), "black");
                sb.Append(inv, $"<text x=\"{cx:F1}\" y=\"{Y(Math.Max(value, value + e)) - 5:F1}\" text-anchor=\"middle\" font-size=\"10\">{Label(value, yStep / 100)}</text>\n");
            }
        }
        sb.Append(inv, $"<line x1=\"{x0}\" y1=\"{Y(0):F1}\" x2=\"{x0 + w}\" y2=\"{Y(0):F1}\" stroke=\"black\"/>\n");
        sb.Append(inv, $"<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y0 + h}\" stroke=\"black\"/>\n");
        sb.Append(inv, $"<text transform=\"translate({x0 - 52},{y0 + h / 2}) rotate(-90)\" text-anchor=\"middle\">{Esc(yLabel)}</text>\n");

        // Legend: one row under the group labels.
        double lx = x0;
        sb.Append("<g class=\"legend\">\n");
        foreach (var s in series)
        {
            sb.Append(inv, $"<rect x=\"{lx:F1}\" y=\"{y0 + h + 28}\" width=\"20\" height=\"10\" fill=\"{Esc(s.Color)}\"/>");
            sb.Append(inv, $"<text x=\"{lx + 26:F1}\" y=\"{y0 + h + 38}\">{Esc(s.Name)}</text>\n");
            lx += 40 + 7 * s.Name.Length;
        }
        sb.Append("</g>\n</svg>\n");
        return sb.ToString();
    }
}
