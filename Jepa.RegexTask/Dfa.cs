namespace Jepa.RegexTask;

/// <summary>
/// A complete deterministic finite automaton over symbols 0..K-1 (the atoms of a <see cref="CharAlphabet"/>).
/// State 0 is the start state; every state has a transition on every symbol. Every construction checks
/// the number of states it builds against a cap and throws <see cref="RegexTooComplexException"/> beyond it.
/// </summary>
internal sealed class Dfa
{
    private readonly int[] next;      // next[s * K + a]
    private readonly bool[] accepting;

    public int Symbols { get; }

    public int StateCount => accepting.Length;

    private Dfa(int symbols, int[] next, bool[] accepting)
    {
        Symbols = symbols;
        this.next = next;
        this.accepting = accepting;
    }

    public int Next(int state, int symbol) => next[state * Symbols + symbol];

    /// <summary>True when the DFA accepts the symbol string.</summary>
    public bool Accepts(IEnumerable<int> symbols)
    {
        int s = 0;
        foreach (int a in symbols) s = Next(s, a);
        return accepting[s];
    }

    /// <summary>Strings of one symbol from <paramref name="symbols"/>.</summary>
    public static Dfa OneOf(bool[] symbols)
    {
        int k = symbols.Length;
        // 0: start, 1: accept, 2: dead.
        var next = new int[3 * k];
        for (int a = 0; a < k; a++)
        {
            next[a] = symbols[a] ? 1 : 2;
            next[k + a] = 2;
            next[2 * k + a] = 2;
        }
        return new Dfa(k, next, [false, true, false]);
    }

    /// <summary>Only the empty string.</summary>
    public static Dfa EmptyString(int symbols)
    {
        var next = new int[2 * symbols];
        Array.Fill(next, 1);
        return new Dfa(symbols, next, [true, false]);
    }

    /// <summary>Strings not accepted (the DFA is complete, so flipping acceptance suffices).</summary>
    public Dfa Complement() => new(Symbols, next, [.. accepting.Select(a => !a)]);

    /// <summary>Product construction: union when <paramref name="union"/>, else intersection. Only reachable pairs are built.</summary>
    public static Dfa Product(Dfa x, Dfa y, bool union, int maxStates)
    {
        int k = x.Symbols;
        var index = new Dictionary<long, int>();
        var queue = new List<(int, int)>();
        var next = new List<int>();
        int Get(int p, int q)
        {
            long key = ((long)p << 32) | (uint)q;
            if (!index.TryGetValue(key, out int id))
            {
                id = queue.Count;
                if (id >= maxStates) throw RegexTooComplexException.StateCap(maxStates);
                index.Add(key, id);
                queue.Add((p, q));
            }
            return id;
        }
        Get(0, 0);
        for (int i = 0; i < queue.Count; i++)
        {
            var (p, q) = queue[i];
            for (int a = 0; a < k; a++) next.Add(Get(x.Next(p, a), y.Next(q, a)));
        }
        var acc = queue.Select(t => union ? x.accepting[t.Item1] || y.accepting[t.Item2] : x.accepting[t.Item1] && y.accepting[t.Item2]);
        return new Dfa(k, [.. next], [.. acc]);
    }

    /// <summary>
    /// Concatenation x·y by subset construction: a state is x's state plus the set of y's states reachable
    /// by the ways of splitting the input read so far; y's dead state is dropped from the sets.
    /// </summary>
    public static Dfa Concat(Dfa x, Dfa y, int maxStates)
    {
        int k = x.Symbols;
        int yDead = y.DeadState();
        bool yStarts = yDead != 0; // y's start is not its dead state: y accepts something
        var builder = new SubsetBuilder(k, maxStates, y.StateCount);
        var set = builder.Scratch;
        set.Add(0); // tag: x's state
        if (x.accepting[0] && yStarts) builder.Mark(0);
        builder.Intern();
        for (int i = 0; i < builder.Count; i++)
        {
            var state = builder[i];
            for (int a = 0; a < k; a++)
            {
                int xn = x.Next(state[0], a);
                set.Add(xn);
                for (int j = 1; j < state.Length; j++)
                {
                    int t = y.Next(state[j], a);
                    if (t != yDead) builder.Mark(t);
                }
                if (x.accepting[xn] && yStarts) builder.Mark(0);
                builder.Transition(builder.Intern());
            }
        }
        return builder.Build(state =>
        {
            for (int j = 1; j < state.Length; j++) if (y.accepting[state[j]]) return true;
            return false;
        });
    }

    /// <summary>Kleene star x* by subset construction over x's states; a flag marks the initial state (which accepts ε).</summary>
    public static Dfa Star(Dfa x, int maxStates)
    {
        int k = x.Symbols;
        int dead = x.DeadState();
        var builder = new SubsetBuilder(k, maxStates, x.StateCount);
        var set = builder.Scratch;
        set.Add(1); // tag 1: the initial state, which accepts the empty string
        if (dead != 0) builder.Mark(0);
        builder.Intern();
        for (int i = 0; i < builder.Count; i++)
        {
            var state = builder[i];
            for (int a = 0; a < k; a++)
            {
                set.Add(0);
                bool accepts = false;
                for (int j = 1; j < state.Length; j++)
                {
                    int t = x.Next(state[j], a);
                    if (t == dead) continue;
                    builder.Mark(t);
                    accepts |= x.accepting[t];
                }
                if (accepts) builder.Mark(0); // a piece just ended: the next one may start
                builder.Transition(builder.Intern());
            }
        }
        return builder.Build(state =>
        {
            if (state[0] == 1) return true;
            for (int j = 1; j < state.Length; j++) if (x.accepting[state[j]]) return true;
            return false;
        });
    }

    /// <summary>A non-accepting state whose every transition loops to itself, or -1.</summary>
    public int DeadState()
    {
        for (int s = 0; s < StateCount; s++)
        {
            if (accepting[s]) continue;
            bool sink = true;
            for (int a = 0; a < Symbols && sink; a++) sink = Next(s, a) == s;
            if (sink) return s;
        }
        return -1;
    }

    /// <summary>
    /// The minimal DFA of the same language (Hopcroft's partition refinement, O(k·n·log n)), with the states
    /// unreachable from the start dropped and the rest numbered breadth-first from it.
    /// </summary>
    public Dfa Minimize()
    {
        int n = StateCount, k = Symbols;
        // Predecessors of t on a: inverse[inverseStart[a * (n + 1) + t] .. inverseStart[a * (n + 1) + t + 1]).
        var inverseStart = new int[k * (n + 1) + 1];
        for (int s = 0; s < n; s++)
            for (int a = 0; a < k; a++) inverseStart[a * (n + 1) + Next(s, a) + 1]++;
        for (int i = 1; i < inverseStart.Length; i++) inverseStart[i] += inverseStart[i - 1];
        var inverse = new int[n * k];
        var fill = (int[])inverseStart.Clone();
        for (int s = 0; s < n; s++)
            for (int a = 0; a < k; a++) inverse[fill[a * (n + 1) + Next(s, a)]++] = s;

        // Blocks are contiguous ranges [first, end) of `elements`; marked states gather at the front of their block.
        var elements = new int[n];
        var location = new int[n];
        var block = new int[n];
        var first = new int[n + 1];
        var end = new int[n + 1];
        var markedCount = new int[n + 1];
        int accepted = 0;
        for (int s = 0; s < n; s++) if (accepting[s]) accepted++;
        int head = 0, tail = accepted;
        for (int s = 0; s < n; s++)
        {
            int at = accepting[s] ? head++ : tail++;
            elements[at] = s;
            location[s] = at;
        }
        int blocks = 0;
        if (accepted > 0) { first[blocks] = 0; end[blocks] = accepted; blocks++; }
        if (accepted < n) { first[blocks] = accepted; end[blocks] = n; blocks++; }
        for (int b = 0; b < blocks; b++)
            for (int i = first[b]; i < end[b]; i++) block[elements[i]] = b;

        var pending = new Stack<(int Block, int Symbol)>();
        var isPending = new bool[(n + 1) * k];
        if (blocks == 2)
        {
            int smaller = end[0] - first[0] <= end[1] - first[1] ? 0 : 1;
            for (int a = 0; a < k; a++) { pending.Push((smaller, a)); isPending[smaller * k + a] = true; }
        }
        var seen = new int[n];
        int stamp = 0;
        var predecessors = new List<int>();
        var touched = new List<int>();
        while (pending.Count > 0)
        {
            var (splitter, symbol) = pending.Pop();
            isPending[splitter * k + symbol] = false;
            stamp++;
            predecessors.Clear();
            for (int i = first[splitter]; i < end[splitter]; i++)
            {
                int t = elements[i], from = inverseStart[symbol * (n + 1) + t], to = inverseStart[symbol * (n + 1) + t + 1];
                for (int j = from; j < to; j++)
                {
                    int s = inverse[j];
                    if (seen[s] == stamp) continue;
                    seen[s] = stamp;
                    predecessors.Add(s);
                }
            }
            foreach (int s in predecessors)
            {
                int y = block[s];
                if (markedCount[y] == 0) touched.Add(y);
                int target = first[y] + markedCount[y]++;
                int other = elements[target], from = location[s];
                elements[target] = s; location[s] = target;
                elements[from] = other; location[other] = from;
            }
            foreach (int y in touched)
            {
                int marked = markedCount[y];
                markedCount[y] = 0;
                if (marked == end[y] - first[y]) continue;
                int z = blocks++;
                first[z] = first[y];
                end[z] = first[y] + marked;
                first[y] = end[z];
                for (int i = first[z]; i < end[z]; i++) block[elements[i]] = z;
                int smaller = end[z] - first[z] <= end[y] - first[y] ? z : y;
                for (int a = 0; a < k; a++)
                {
                    int pick = isPending[y * k + a] ? z : smaller;
                    if (isPending[pick * k + a]) continue;
                    isPending[pick * k + a] = true;
                    pending.Push((pick, a));
                }
            }
            touched.Clear();
        }
        // Renumber blocks breadth-first from the start state's block; unreachable blocks are dropped.
        var order = new int[blocks];
        Array.Fill(order, -1);
        var representative = new int[blocks];
        for (int b = 0; b < blocks; b++) representative[b] = elements[first[b]];
        var queue = new List<int> { block[0] };
        order[block[0]] = 0;
        for (int i = 0; i < queue.Count; i++)
        {
            int s = representative[queue[i]];
            for (int a = 0; a < k; a++)
            {
                int b = block[Next(s, a)];
                if (order[b] < 0)
                {
                    order[b] = queue.Count;
                    queue.Add(b);
                }
            }
        }
        var next2 = new int[queue.Count * k];
        var acc2 = new bool[queue.Count];
        for (int i = 0; i < queue.Count; i++)
        {
            int s = representative[queue[i]];
            acc2[i] = accepting[s];
            for (int a = 0; a < k; a++) next2[i * k + a] = order[block[Next(s, a)]];
        }
        return new Dfa(k, next2, acc2);
    }

    /// <summary>
    /// A shortest symbol string accepted by exactly one of the two DFAs (breadth-first search over the
    /// reachable product), or null when they accept the same language.
    /// </summary>
    public static int[]? Distinguish(Dfa x, Dfa y)
    {
        int k = x.Symbols;
        var parent = new Dictionary<long, (long From, int Symbol)>();
        var queue = new Queue<(int, int)>();
        long start = 0;
        parent[start] = (-1, -1);
        queue.Enqueue((0, 0));
        while (queue.Count > 0)
        {
            var (p, q) = queue.Dequeue();
            long key = ((long)p << 32) | (uint)q;
            if (x.accepting[p] != y.accepting[q])
            {
                var word = new List<int>();
                for (long at = key; parent[at].From >= 0; at = parent[at].From) word.Add(parent[at].Symbol);
                word.Reverse();
                return [.. word];
            }
            for (int a = 0; a < k; a++)
            {
                int pn = x.Next(p, a), qn = y.Next(q, a);
                long nk = ((long)pn << 32) | (uint)qn;
                if (parent.TryAdd(nk, (key, a))) queue.Enqueue((pn, qn));
            }
        }
        return null;
    }

    private readonly struct IntArrayKey(int[] values) : IEquatable<IntArrayKey>
    {
        private readonly int[] values = values;

        public bool Equals(IntArrayKey other) => values.AsSpan().SequenceEqual(other.values);

        public override bool Equals(object? obj) => obj is IntArrayKey k && Equals(k);

        public override int GetHashCode()
        {
            var h = new HashCode();
            foreach (int v in values) h.Add(v);
            return h.ToHashCode();
        }
    }

    /// <summary>
    /// Numbers the states of a subset construction in discovery order and records their transitions. A state
    /// is an int array: a tag, then the sorted distinct members of its set. It is assembled in
    /// <see cref="Scratch"/> (the tag first, added by the caller, then members through <see cref="Mark"/>)
    /// and numbered by <see cref="Intern"/>, which clears the scratch for the next one.
    /// </summary>
    private sealed class SubsetBuilder(int symbols, int maxStates, int members)
    {
        private readonly Dictionary<IntArrayKey, int> index = [];
        private readonly List<int[]> states = [];
        private readonly List<int> next = [];
        private readonly int[] marked = new int[members];
        private int stamp = 1;

        public List<int> Scratch { get; } = [];

        public int Count => states.Count;

        public int[] this[int i] => states[i];

        /// <summary>Adds <paramref name="member"/> to the set being assembled, once.</summary>
        public void Mark(int member)
        {
            if (marked[member] == stamp) return;
            marked[member] = stamp;
            Scratch.Add(member);
        }

        /// <summary>The number of the assembled state, new or already seen.</summary>
        public int Intern()
        {
            Scratch.Sort(1, Scratch.Count - 1, null);
            int[] key = [.. Scratch];
            Scratch.Clear();
            stamp++;
            var sig = new IntArrayKey(key);
            if (!index.TryGetValue(sig, out int id))
            {
                id = states.Count;
                if (id >= maxStates) throw RegexTooComplexException.StateCap(maxStates);
                index.Add(sig, id);
                states.Add(key);
            }
            return id;
        }

        public void Transition(int target) => next.Add(target);

        public Dfa Build(Func<int[], bool> accepts) => new(symbols, [.. next], [.. states.Select(accepts)]);
    }
}
