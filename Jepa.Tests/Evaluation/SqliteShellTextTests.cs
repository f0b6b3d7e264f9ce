using Jepa.Training.Evaluation;

namespace Jepa.Tests.Evaluation;

public sealed class SqliteShellTextTests
{
    // Each expected text is what the sqlite3 3.40 shell prints for the value in its default list mode.
    [Theory]
    [InlineData(0.1 + 0.2, "0.3")]
    [InlineData(1e20, "1.0e+20")]
    [InlineData(1.0 / 3, "0.333333333333333")]
    [InlineData(123456789012345678.0, "1.23456789012346e+17")]
    [InlineData(2.5e-7, "2.5e-07")]
    [InlineData(100.0, "100.0")]
    [InlineData(-0.0, "0.0")]
    [InlineData(1e15, "1.0e+15")]
    [InlineData(999999999999999.0, "999999999999999.0")]
    [InlineData(9999999999999995.0, "1.0e+16")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1.0e-05")]
    [InlineData(-1.5, "-1.5")]
    [InlineData(1.7976931348623157e308, "1.79769313486232e+308")]
    [InlineData(0.000123456789012345678, "0.000123456789012346")]
    [InlineData(-2.0 / 3, "-0.666666666666667")]
    [InlineData(99999999999999.95, "100000000000000.0")]
    public void RealsPrintAsTheShellPrintsThem(double value, string expected) =>
        Assert.Equal(expected, SqliteShellText.Real(value));
}
