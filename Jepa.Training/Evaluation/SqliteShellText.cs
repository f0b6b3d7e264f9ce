using System.Globalization;
using System.Text;

namespace Jepa.Training.Evaluation;

/// <summary>
/// How the <c>sqlite3</c> shell prints a REAL in list mode: SQLite's <c>%!.15g</c> — 15 significant digits, trailing
/// zeros dropped but one digit kept after the decimal point (<c>2.0</c>, <c>0.3</c> for 0.1 + 0.2), and the exponent form
/// below 1e-4 or from 1e15 on (<c>1.0e+15</c>, <c>2.5e-07</c>). This is what shells up to at least 3.45 print (checked
/// against 3.40); recent SQLite libraries turn a REAL into text with 17 digits instead (<c>0.30000000000000004</c>), so
/// the rendering is done here rather than left to the bundled engine.
/// </summary>
public static class SqliteShellText
{
    /// <summary>Significant digits.</summary>
    private const int Digits = 15;

    /// <summary>The shell's text for <paramref name="value"/>.</summary>
    public static string Real(double value)
    {
        if (double.IsNaN(value)) return "";
        if (double.IsInfinity(value)) return value > 0 ? "Inf" : "-Inf";
        if (value == 0) return "0.0";
        // "d.dddddddddddddde+xxx": the 15 digits, correctly rounded, and the decimal exponent.
        string e = Math.Abs(value).ToString("E" + (Digits - 1).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        int at = e.IndexOf('E', StringComparison.Ordinal);
        string digits = e[..at].Replace(".", "", StringComparison.Ordinal);
        int exponent = int.Parse(e[(at + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var sb = new StringBuilder(value < 0 ? "-" : "");
        if (exponent < -4 || exponent >= Digits)
        {
            sb.Append(digits[0]).Append('.').Append(Fraction(digits[1..]));
            sb.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (exponent >= 0)
            sb.Append(digits[..(exponent + 1)]).Append('.').Append(Fraction(digits[(exponent + 1)..]));
        else
            sb.Append("0.").Append(Fraction(new string('0', -exponent - 1) + digits));
        return sb.ToString();
    }

    /// <summary>The digits after the point without trailing zeros, keeping one.</summary>
    private static string Fraction(string digits)
    {
        string f = digits.TrimEnd('0');
        return f.Length == 0 ? "0" : f;
    }
}
