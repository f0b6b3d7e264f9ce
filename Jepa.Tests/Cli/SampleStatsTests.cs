using Jepa.Cli.Experiments;

namespace Jepa.Tests.Cli;

public sealed class SampleStatsTests
{
    [Fact]
    public void MeanAndSampleStdMatchAHandExample()
    {
        double[] x = [0.2, 0.4, 0.9];
        var s = SampleStats.Of(x);
        double mean = (0.2 + 0.4 + 0.9) / 3;
        double std = Math.Sqrt(((0.2 - mean) * (0.2 - mean) + (0.4 - mean) * (0.4 - mean) + (0.9 - mean) * (0.9 - mean)) / (3 - 1));
        Assert.Equal(3, s.N);
        Assert.Equal(0.5, s.Mean, 15);
        Assert.Equal(std, s.Std, 15);
        Assert.Equal(Math.Sqrt(0.13), s.Std, 12);
    }

    [Fact]
    public void OneValueHasNoStdAndNoneHasNoMean()
    {
        var one = SampleStats.Of([0.7]);
        Assert.Equal((1, 0.7), (one.N, one.Mean));
        Assert.True(double.IsNaN(one.Std));
        var none = SampleStats.Of([]);
        Assert.Equal(0, none.N);
        Assert.True(double.IsNaN(none.Mean) && double.IsNaN(none.Std));
    }
}
