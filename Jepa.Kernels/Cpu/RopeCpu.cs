using System.Runtime.Intrinsics;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The host path of <see cref="Rope"/>: the kernels' rotation of each pair, forward
/// <c>(a, b) → (a·c − b·s, b·c + a·s)</c> and backward <c>(da, db) += (a·c + b·s, b·c − a·s)</c>, with the same
/// roundings, eight lanes at a time (interleaved pairs through an in-register swap), on fixed blocks of tokens.
/// Results equal the kernels' bit for bit. A position outside the table gives NaN, as in the kernels.
/// </summary>
internal static unsafe class RopeCpu
{
    /// <summary>Rotates <paramref name="input"/> into <paramref name="output"/> ([B, T, H, D]). The position of token
    /// (b, t) is <paramref name="positions"/>[b·T + t], or <paramref name="start"/> + t when it is null.</summary>
    public static void Run(int threads, float* input, float* output, float* table, int* positions, int start,
        int B, int T, int H, int D, int maxPos, bool interleaved, bool backward)
    {
        int half = D / 2, row = H * D, tokens = B * T;
        int per = Math.Max(1, HostParallel.Chunk / row);
        HostParallel.ForRanges(tokens, per, threads, (t0, t1) =>
        {
            for (long tok = t0; tok < t1; tok++)
            {
                int pos = positions != null ? positions[tok] : start + (int)(tok % T);
                bool inside = (uint)pos < (uint)maxPos;
                float* cos = table + (long)pos * half, sin = cos + (long)maxPos * half;
                for (int h = 0; h < H; h++)
                {
                    long o = tok * row + (long)h * D;
                    if (!inside) Nan(input + o, output + o, half, interleaved, backward);
                    else if (interleaved) Interleaved(input + o, output + o, cos, sin, half, backward);
                    else RotateHalf(input + o, output + o, cos, sin, half, backward);
                }
            }
        });
    }

    private static void Interleaved(float* x, float* y, float* cos, float* sin, int half, bool backward)
    {
        var swap = Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6);
        var dup = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
        // forward: (a·c + b·(−s), b·c + a·s); backward: (a·c + b·s, b·c + a·(−s)).
        var sign = backward ? Vector256.Create(1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f) : Vector256.Create(-1f, 1f, -1f, 1f, -1f, 1f, -1f, 1f);
        int i = 0;
        for (; i + 4 <= half; i += 4)
        {
            var v = Vector256.Load(x + 2 * i);
            var c4 = Vector128.Load(cos + i);
            var s4 = Vector128.Load(sin + i);
            var c = Vector256.Shuffle(Vector256.Create(c4, c4), dup);
            var s = Vector256.Shuffle(Vector256.Create(s4, s4), dup) * sign;
            var r = v * c + Vector256.Shuffle(v, swap) * s;
            if (backward) r += Vector256.Load(y + 2 * i);
            r.Store(y + 2 * i);
        }
        for (; i < half; i++) Pair(x, y, 2 * i, 2 * i + 1, cos[i], sin[i], backward);
    }

    private static void RotateHalf(float* x, float* y, float* cos, float* sin, int half, bool backward)
    {
        int i = 0;
        for (; i + 8 <= half; i += 8)
        {
            var a = Vector256.Load(x + i);
            var b = Vector256.Load(x + half + i);
            var c = Vector256.Load(cos + i);
            var s = Vector256.Load(sin + i);
            if (backward)
            {
                (Vector256.Load(y + i) + (a * c + b * s)).Store(y + i);
                (Vector256.Load(y + half + i) + (b * c - a * s)).Store(y + half + i);
            }
            else
            {
                (a * c - b * s).Store(y + i);
                (b * c + a * s).Store(y + half + i);
            }
        }
        for (; i < half; i++) Pair(x, y, i, half + i, cos[i], sin[i], backward);
    }

    private static void Nan(float* x, float* y, int half, bool interleaved, bool backward)
    {
        for (int i = 0; i < half; i++)
        {
            if (interleaved) Pair(x, y, 2 * i, 2 * i + 1, float.NaN, float.NaN, backward);
            else Pair(x, y, i, half + i, float.NaN, float.NaN, backward);
        }
    }

    private static void Pair(float* x, float* y, int a, int b, float c, float s, bool backward)
    {
        float xa = x[a], xb = x[b];
        if (backward)
        {
            y[a] += xa * c + xb * s;
            y[b] += xb * c - xa * s;
        }
        else
        {
            y[a] = xa * c - xb * s;
            y[b] = xb * c + xa * s;
        }
    }
}
