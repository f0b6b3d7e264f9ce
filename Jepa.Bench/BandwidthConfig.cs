using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Jepa.Bench;

/// <summary>Adds a GB/s column: <see cref="BytesPerElementAttribute"/> × the benchmark's <c>N</c> parameter / mean time.</summary>
public sealed class BandwidthConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public BandwidthConfig() => AddColumn(new GigabytesPerSecondColumn());

    private sealed class GigabytesPerSecondColumn : IColumn
    {
        public string Id => nameof(GigabytesPerSecondColumn);
        public string ColumnName => "GB/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "State bytes moved per op (reads + writes) / mean time, in 10^9 bytes per second";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            var bytes = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<BytesPerElementAttribute>();
            var n = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "N")?.Value;
            if (stats is null || bytes is null || n is not int count) return "-";
            return (bytes.Bytes * (double)count / stats.Mean).ToString("F2"); // bytes per ns = GB/s
        }
    }
}
