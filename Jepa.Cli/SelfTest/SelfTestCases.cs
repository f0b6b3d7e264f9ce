using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Cli.SelfTest;

/// <summary>
/// The ops the self-test runs, each on small fixed inputs with sizes that are not multiples of any tile:
/// matrix products (NN, NT, TN and backward), attention forward and backward with block-causal segments,
/// RMSNorm, softmax, RoPE, SwiGLU, embedding, cross-entropy, the four JEPA distances, AdamW and reductions.
/// </summary>
public static class SelfTestCases
{
    private const ulong Seed = 20250917;

    private static float[] Rand(int n, ulong stream, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        Philox.FillUniform(a, Seed, stream, lo, hi);
        return a;
    }

    private static int[] Ints(int n, ulong stream, int max)
    {
        var a = new int[n];
        for (int i = 0; i < n; i++) a[i] = Philox.NextInt(Seed, stream, (ulong)i, max);
        return a;
    }

    /// <summary>Every case, in table order.</summary>
    public static IReadOnlyList<SelfTestCase> All { get; } =
    [
        MatMulForward(MatMulForm.NN), MatMulForward(MatMulForm.NT), MatMulForward(MatMulForm.TN), MatMulBackward(),
        AttentionForward(), AttentionBackward(),
        new("rmsnorm fwd/bwd", 1e-4, false, r =>
        {
            const int N = 13, C = 37;
            var x = r.Up(Rand(N * C, 1)); var w = r.Up(Rand(C, 2, 0.5f, 1.5f)); var dy = r.Up(Rand(N * C, 3));
            var y = r.Zeros(N * C); var rstd = r.Zeros(N); var dx = r.Zeros(N * C); var dw = r.Zeros(C);
            r.Ops.RmsNorm.Forward(x, w, y, rstd, N, C);
            r.Ops.RmsNorm.Backward(x, w, rstd, dy, dx, dw, N, C);
            return [("y", r.Down(y)), ("dx", r.Down(dx)), ("dw", r.Down(dw))];
        }),
        new("softmax fwd/bwd", 1e-4, false, r =>
        {
            const int N = 11, C = 45;
            var x = r.Up(Rand(N * C, 4, -4f, 4f)); var dy = r.Up(Rand(N * C, 5));
            var y = r.Zeros(N * C); var dx = r.Zeros(N * C);
            r.Ops.Softmax.Forward(x, y, N, C);
            r.Ops.Softmax.Backward(y, dy, dx, N, C);
            return [("y", r.Down(y)), ("dx", r.Down(dx))];
        }),
        new("rope fwd/bwd", 1e-4, false, r =>
        {
            const int B = 2, T = 7, H = 3, D = 16;
            int n = B * T * H * D;
            var table = r.Own(r.Ops.Rope.CreateTable(D, 32));
            var x = r.Up(Rand(n, 6)); var dy = r.Up(Rand(n, 7)); var y = r.Zeros(n); var dx = r.Zeros(n);
            r.Ops.Rope.Forward(x, y, table, B, T, H, D, RopeConvention.RotateHalf, startPosition: 3);
            r.Ops.Rope.Backward(dy, dx, table, B, T, H, D, RopeConvention.RotateHalf, startPosition: 3);
            return [("y", r.Down(y)), ("dx", r.Down(dx))];
        }),
        new("swiglu fwd/bwd", 1e-4, false, r =>
        {
            const int n = 301;
            var g = r.Up(Rand(n, 8, -3f, 3f)); var u = r.Up(Rand(n, 9)); var dy = r.Up(Rand(n, 10));
            var y = r.Zeros(n); var dg = r.Zeros(n); var du = r.Zeros(n);
            r.Ops.Activations.SwiGlu(g, u, y, n);
            r.Ops.Activations.SwiGluBackward(g, u, dy, dg, du, n);
            return [("y", r.Down(y)), ("dgate", r.Down(dg)), ("dup", r.Down(du))];
        }),
        new("embedding fwd/bwd", 1e-5, false, r =>
        {
            const int N = 29, V = 17, C = 12;
            int[] tokens = Ints(N, 11, V);
            var ids = r.UpInt(tokens); var W = r.Up(Rand(V * C, 12)); var dy = r.Up(Rand(N * C, 13));
            var y = r.Zeros(N * C); var dW = r.Zeros(V * C);
            var index = r.Own(new EmbeddingGradIndex(r.Device));
            index.Build(tokens, V);
            r.Ops.Embedding.Forward(ids, W, y, N, V, C);
            r.Ops.Embedding.Backward(dy, index, dW, N, V, C);
            return [("y", r.Down(y)), ("dW", r.Down(dW))];
        }),
        new("cross-entropy fwd/bwd", 1e-4, false, r =>
        {
            const int N = 9, V = 70;
            int[] t = Ints(N, 14, V);
            t[3] = CrossEntropy.DefaultIgnoreIndex;
            int count = CrossEntropy.CountTargets(t, V);
            var logits = r.Up(Rand(N * V, 15, -3f, 3f)); var targets = r.UpInt(t);
            var losses = r.Zeros(N); var lse = r.Zeros(N); var loss = r.Zeros(1); var dlogits = r.Zeros(N * V);
            r.Ops.CrossEntropy.ForwardMean(logits, targets, losses, lse, loss, N, V, count);
            r.Ops.CrossEntropy.Backward(logits, targets, lse, dlogits, N, V, count);
            return [("loss", r.Down(loss)), ("losses", r.Down(losses)), ("dlogits", r.Down(dlogits))];
        }),
        Distance(JepaDistanceKind.Cosine), Distance(JepaDistanceKind.L2), Distance(JepaDistanceKind.Mse), Distance(JepaDistanceKind.InfoNce),
        new("sigreg", 1e-4, false, r =>
        {
            const int N = 24, M = 33;
            var p = r.Up(Rand(N * M, 72, -2.5f, 2.5f));
            var cf = r.Zeros(SigReg.SavedLength(M)); var stat = r.Zeros(M); var loss = r.Zeros(1); var dp = r.Zeros(N * M);
            r.Ops.SigReg.Forward(p, cf, stat, loss, N, M);
            r.Ops.SigReg.Backward(p, cf, dp, N, M);
            return [("loss", r.Down(loss)), ("slices", r.Down(stat)), ("dp", r.Down(dp))];
        }),
        new("vicreg", 1e-4, false, r =>
        {
            const int N = 20, C = 37;
            var z = r.Up(Rand(N * C, 73, -1.2f, 1.2f));
            var saved = r.Zeros(VicReg.SavedLength(C)); var loss = r.Zeros(1); var dz = r.Zeros(N * C);
            r.Ops.VicReg.Forward(z, saved, loss, N, C);
            r.Ops.VicReg.Backward(z, saved, dz, N, C);
            return [("loss", r.Down(loss)), ("dz", r.Down(dz))];
        }),
        new("adamw step", 1e-5, false, r =>
        {
            const int n = 257;
            var p = r.Up(Rand(n, 16)); var g = r.Up(Rand(n, 17)); var m = r.Up(Rand(n, 18, -0.1f, 0.1f)); var v = r.Up(Rand(n, 19, 0f, 0.01f));
            r.Ops.AdamW.Step(p, g, m, v, n, 3, 1e-2, 0.9, 0.999, 1e-8, 0.01);
            return [("p", r.Down(p)), ("m", r.Down(m)), ("v", r.Down(v))];
        }),
        new("reductions", 1e-4, false, r =>
        {
            const int n = 5003, N = 7, C = 61;
            var x = r.Up(Rand(n, 20));
            var sum = r.Zeros(1); var max = r.Zeros(1); var norm = r.Zeros(1); var rows = r.Zeros(N);
            r.Ops.Reductions.Sum(x, n, sum);
            r.Ops.Reductions.Max(x, n, max);
            r.Ops.Reductions.L2Norm(x, n, norm);
            r.Ops.Reductions.SumRows(x.SubView(0, N * C), rows, N, C);
            return [("sum", r.Down(sum)), ("max", r.Down(max)), ("l2", r.Down(norm)), ("row sums", r.Down(rows))];
        }),
    ];

    private static SelfTestCase MatMulForward(MatMulForm form) => new($"matmul {form}", 1e-4, true, r =>
    {
        const int M = 37, N = 29, K = 23;
        var a = r.Up(Rand(M * K, 30 + (ulong)form)); var b = r.Up(Rand(K * N, 40 + (ulong)form)); var c = r.Zeros(M * N);
        r.MatMul.Forward(form, a, b, c, M, N, K);
        return [("C", r.Down(c))];
    });

    private static SelfTestCase MatMulBackward() => new("matmul NT bwd", 1e-4, true, r =>
    {
        const int M = 21, N = 19, K = 33;
        var a = r.Up(Rand(M * K, 50)); var b = r.Up(Rand(N * K, 51)); var dc = r.Up(Rand(M * N, 52));
        var da = r.Zeros(M * K); var db = r.Zeros(N * K);
        r.MatMul.Backward(MatMulForm.NT, dc, a, b, da, db, M, N, K);
        return [("dA", r.Down(da)), ("dB", r.Down(db))];
    });

    private const int AB = 2, AT = 19, AHq = 4, AHkv = 2, AD = 16;

    private static (int Nq, int Nkv) AttentionSizes => (AB * AT * AHq * AD, AB * AT * AHkv * AD);

    private static int[] Segments()
    {
        // Two views packed per row: [Text+PRED ‖ Code], as the single-pass JEPA objective lays them out.
        var seg = new int[AB * AT];
        for (int b = 0; b < AB; b++)
            for (int t = 0; t < AT; t++) seg[b * AT + t] = t < 8 + 3 * b ? 0 : 1;
        return seg;
    }

    private static SelfTestCase AttentionForward() => new("attention fwd (segments)", 1e-4, true, r =>
    {
        var (nq, nkv) = AttentionSizes;
        var q = r.Up(Rand(nq, 60)); var k = r.Up(Rand(nkv, 61)); var v = r.Up(Rand(nkv, 62)); var seg = r.UpInt(Segments());
        var o = r.Zeros(nq); var lse = r.Zeros(AB * AHq * AT);
        r.Attention.Forward(q, k, v, o, lse, AB, AT, AHq, AHkv, AD, seg);
        return [("o", r.Down(o)), ("lse", r.Down(lse))];
    });

    private static SelfTestCase AttentionBackward() => new("attention bwd (segments)", 1e-4, true, r =>
    {
        var (nq, nkv) = AttentionSizes;
        var q = r.Up(Rand(nq, 63)); var k = r.Up(Rand(nkv, 64)); var v = r.Up(Rand(nkv, 65)); var dO = r.Up(Rand(nq, 66));
        var seg = r.UpInt(Segments());
        var o = r.Zeros(nq); var lse = r.Zeros(AB * AHq * AT);
        var dq = r.Zeros(nq); var dk = r.Zeros(nkv); var dv = r.Zeros(nkv);
        r.Attention.Forward(q, k, v, o, lse, AB, AT, AHq, AHkv, AD, seg);
        r.Attention.Backward(dO, q, k, v, o, lse, dq, dk, dv, AB, AT, AHq, AHkv, AD, seg);
        return [("dq", r.Down(dq)), ("dk", r.Down(dk)), ("dv", r.Down(dv))];
    });

    private static SelfTestCase Distance(JepaDistanceKind kind) => new($"jepa distance {kind.ToString().ToLowerInvariant()}", 1e-4, false, r =>
    {
        const int B = 6, C = 40;
        var p = r.Up(Rand(B * C, 70)); var t = r.Up(Rand(B * C, 71));
        var pairs = r.Zeros(B); var loss = r.Zeros(1); var dp = r.Zeros(B * C); var dt = r.Zeros(B * C);
        r.Ops.JepaDistance.Forward(kind, p, t, pairs, loss, B, C);
        r.Ops.JepaDistance.Backward(kind, p, t, dp, dt, B, C);
        return [("loss", r.Down(loss)), ("pairs", r.Down(pairs)), ("dp", r.Down(dp)), ("dt", r.Down(dt))];
    });
}
