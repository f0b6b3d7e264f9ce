using Jepa.RegexTask;
using NetRegex = System.Text.RegularExpressions.Regex;
using NetRegexOptions = System.Text.RegularExpressions.RegexOptions;

namespace Jepa.Tests.Data;

public sealed class RegexEquivalenceTests
{
    // Assistant regexes copied from NL-RX-SYNTH test.jsonl (a fixed random sample), so the suite does not need the data.
    public static readonly TheoryData<string> DatasetSample = new()
    {
        "(.).*((dog){4,}).*", "[0-9].*[a-z].*", "(.*..*).*((dog)*).*", "((([AEIOUaeiou])+)|(dog))(.*)",
        "([a-z].*..*){2,}", ".*\\b[A-Z].*dog.*\\b.*", "([0-9]).*(([A-Z]){5,}).*", "((dog)|([A-Za-z])){2,}",
        "([A-Za-z]).*(([A-Z])|(dog)|(truck)).*", ".*(.).*([A-Z]).*.*", "(dog.*[0-9].*).*([A-Z]).*",
        "(.*)(.*([AEIOUaeiou])|([A-Z]).*)", "\\b([0-9])&(~(.))\\b", "(([0-9]){7,}).*([AEIOUaeiou]).*",
        "((dog)&([A-Za-z])).*([a-z]).*", "(dog.*truck.*).*(([AEIOUaeiou])*).*", "(\\b(dog).*([AEIOUaeiou]).*\\b)+",
        "\\b(.)&([A-Z])&(dog)\\b", "(([0-9])|([A-Za-z]))+", "((.){2,}).*([AEIOUaeiou]).*", "([A-Z]){4,}",
        "(dog).*(([0-9])&([a-z])&(truck)).*", "(.*([0-9])|([a-z]).*){6,}", "~(([AEIOUaeiou])+)", ".*([a-z])|(dog).*",
        "(~([A-Z])).*(([0-9])&(dog)&(truck)).*", "((.)|([A-Za-z])|(dog)).*([AEIOUaeiou]).*", "([A-Z]).*(~([0-9])).*",
        "(([A-Z]){5,})&((.)|(dog))", "(([A-Z])(.*))&((dog)|(truck))", "\\b([0-9])|([a-z])|(.)\\b",
        "\\b(([0-9])&(dog)&([A-Za-z])).*(truck).*\\b", "(([AEIOUaeiou])&([a-z])&([A-Za-z])).*([A-Z]).*",
        "([A-Za-z]).*((.*)([a-z])).*", "(\\b([AEIOUaeiou])&([a-z])\\b)*", "\\b(([0-9])&(.))|(dog)\\b",
        "(((dog).*(truck).*)|(ring)){6,}", "~((dog)&([0-9])&(truck))", "(~(dog))|(([0-9])+)", "(\\bdog\\b)+",
    };

    [Theory]
    [InlineData("(dog)|(truck)", "(truck)|(dog)")]
    [InlineData(".*(dog).*", ".*dog.*")]
    [InlineData("([0-9])&([0-9])", "[0-9]")]
    [InlineData("~(~(x))", "x")]
    [InlineData("(a){2,}", "aa(a)*")]
    [InlineData("[AEIOUaeiou]&[a-z]", "[aeiou]")]
    [InlineData("~((dog)|(truck))", "(~(dog))&(~(truck))")]
    [InlineData("(.*)(.*)", ".*")]
    [InlineData("(a|b)*", "(a*b*)*")]
    [InlineData("[A-Za-z]", "[A-Z]|[a-z]")]
    [InlineData("(dog)+", "dog(dog)*")]
    [InlineData("(x){2,3}", "xx|xxx")]
    [InlineData("(a)?b", "b|ab")]
    [InlineData("[a-f]", "[a-c]|[d-f]")]
    [InlineData("[^a]", "(.)&(~(a))")]
    [InlineData("~(.*)", "(a)&(b)")]
    [InlineData("[a-z]&[A-Z]", "(dog)&(truck)")]
    [InlineData("()", "(~(.+))")]
    [InlineData("\\bdog\\b", "dog")]
    // Concatenation binds tighter than '&': (.*(.)) & [AEIOUaeiou] & ([A-Z].*) is one upper-case vowel.
    [InlineData(".*(.)&([AEIOUaeiou])&([A-Z]).*", "[AEIOU]")]
    // '|' binds loosest: (\b(([0-9])&(.))) | ((dog)\b).
    [InlineData("\\b(([0-9])&(.))|(dog)\\b", "[0-9]|dog")]
    // '~' binds tighter than '*': ~a* is (~a)*, which is ~a (every string but "a" is already in ~a).
    [InlineData("~a*", "~a")]
    public void EquivalentPairsAreEquivalent(string first, string second)
    {
        Assert.True(RegexEquivalence.AreEquivalent(first, second));
        Assert.True(RegexEquivalence.AreEquivalent(second, first));
        Assert.True(RegexEquivalence.TryAreEquivalent(first, second, out string? reason), reason);
        var result = RegexEquivalence.Compare(first, second);
        Assert.Equal(RegexVerdict.Equivalent, result.Verdict);
        Assert.Null(result.Witness);
    }

    [Theory]
    [InlineData("(dog)|(truck)", "dog")]
    [InlineData(".*dog.*", "dog.*")]
    [InlineData("[AEIOUaeiou]", "[aeiou]")]
    [InlineData("(a){2,}", "(a){3,}")]
    [InlineData("~(a*)", "~a*")]
    [InlineData("[0-9]", ".")]
    [InlineData("(dog).*([0-9]).*", "([0-9]).*(dog).*")]
    [InlineData("(.)&([A-Z])", "[A-Z]&[a-z]")]
    [InlineData("dog", "dog ")]
    public void NonEquivalentPairsAreDifferentWithAWitness(string first, string second)
    {
        Assert.False(RegexEquivalence.AreEquivalent(first, second));
        Assert.False(RegexEquivalence.TryAreEquivalent(first, second, out string? reason));
        Assert.Contains("matched by the", reason);
        AssertDifferentWithValidWitness(first, second, RegexEquivalenceOptions.Default);
    }

    [Fact]
    public void WordBoundaryIsTheEmptyStringByDefaultAndLiteralBOnRequest()
    {
        var literal = new RegexEquivalenceOptions(WordBoundary: WordBoundaryMode.LiteralB);
        Assert.True(RegexEquivalence.AreEquivalent("\\b.*[A-Z].*\\b", ".*[A-Z].*"));
        Assert.True(RegexEquivalence.IsMatch("\\bdog\\b", "dog"));
        Assert.True(RegexEquivalence.AreEquivalent("\\bdog\\b", "bdogb", literal));
        Assert.True(RegexEquivalence.IsMatch("\\bdog\\b", "bdogb", literal));
        Assert.False(RegexEquivalence.IsMatch("\\bdog\\b", "dog", literal));
        AssertDifferentWithValidWitness("\\bdog\\b", "dog", literal);
    }

    [Theory]
    [InlineData("dog", "dog", true)]
    [InlineData("dog", "dogs", false)]
    [InlineData("dog", "", false)]
    [InlineData(".*dog.*", "hotdogs", true)]
    [InlineData("~(dog)", "", true)]
    [InlineData("~(dog)", "dogs", true)]
    [InlineData("~(dog)", "dog", false)]
    [InlineData("[AEIOUaeiou]&[a-z]", "e", true)]
    [InlineData("[AEIOUaeiou]&[a-z]", "E", false)]
    [InlineData("(dog){2,}", "dogdog", true)]
    [InlineData("(dog){2,}", "dog", false)]
    [InlineData(".", "\n", true)]
    [InlineData(".", "é", true)]
    [InlineData("(.)*", "any line at all, even ~&|", true)]
    [InlineData("a\\.b", "a.b", true)]
    [InlineData("a\\.b", "axb", false)]
    [InlineData("[^0-9]+", "abc", true)]
    [InlineData("[^0-9]+", "a1c", false)]
    [InlineData("~([0-9])&(.)", "5", false)]
    [InlineData("~([0-9])&(.)", "x", true)]
    public void MatchesWholeLines(string pattern, string line, bool expected)
    {
        Assert.Equal(expected, RegexEquivalence.IsMatch(pattern, line));
    }

    [Theory]
    [InlineData("(dog", 4, "expected ')' to close the group opened at 0")]
    [InlineData("dog)", 3, "unbalanced ')'")]
    [InlineData("[a-z", 0, "never closed")]
    [InlineData("[]", 1, "empty character class")]
    [InlineData("*a", 0, "nothing to repeat")]
    [InlineData("a|*", 2, "nothing to repeat")]
    [InlineData("a{2", 3, "expected '}'")]
    [InlineData("a{,3}", 2, "expected a number")]
    [InlineData("a{3,2}", 1, "maximum below its minimum")]
    [InlineData("a|", 2, "expected an expression before end of pattern")]
    [InlineData("|a", 0, "expected an expression before '|'")]
    [InlineData("a&&b", 2, "expected an expression before '&'")]
    [InlineData("~", 1, "expected an expression after '~'")]
    [InlineData("", 0, "expected an expression")]
    [InlineData("\\d+", 0, "unsupported escape")]
    [InlineData("[z-a]", 1, "reversed")]
    [InlineData("a\\", 1, "nothing to escape")]
    [InlineData("a]", 1, "unbalanced ']'")]
    [InlineData("a{99999}", 2, "above the limit")]
    public void MalformedPatternsFailWithPositionAndReason(string pattern, int position, string reason)
    {
        Assert.False(RegexParser.TryParse(pattern, out var node, out var error));
        Assert.Null(node);
        Assert.Equal(position, error.Position);
        Assert.Contains(reason, error.Reason);
        Assert.Contains($"position {position}", error.Message);
        var thrown = Assert.Throws<RegexParseException>(() => RegexParser.Parse(pattern));
        Assert.Equal(error.Message, thrown.Message);

        // A model's malformed output counts as wrong, on either side, even when identical to the other side.
        Assert.False(RegexEquivalence.TryAreEquivalent("[0-9]", pattern, out string? why));
        Assert.StartsWith("second expression: ", why);
        Assert.Contains(reason, why);
        Assert.False(RegexEquivalence.TryAreEquivalent(pattern, pattern, out why));
        Assert.StartsWith("first expression: ", why);
        Assert.Equal(RegexVerdict.ParseError, RegexEquivalence.Compare(pattern, "dog").Verdict);
        Assert.Throws<RegexParseException>(() => RegexEquivalence.AreEquivalent("dog", pattern));
    }

    [Fact]
    public void DeepNestingIsAParseErrorNotAStackOverflow()
    {
        string deep = new string('(', RegexParser.MaxNesting + 1) + "a" + new string(')', RegexParser.MaxNesting + 1);
        Assert.False(RegexParser.TryParse(deep, out _, out var error));
        Assert.Equal(RegexParser.MaxNesting, error.Position);
        Assert.Contains("nested deeper", error.Reason);
        string ok = new string('(', RegexParser.MaxNesting) + "a" + new string(')', RegexParser.MaxNesting);
        Assert.True(RegexEquivalence.AreEquivalent(ok, "a"));
        Assert.True(RegexEquivalence.AreEquivalent(new string('~', 100) + "a", "a"));
    }

    [Theory]
    [MemberData(nameof(DatasetSample))]
    public void DatasetRegexesParseAndAreEquivalentToThemselvesButNotToTheirComplement(string regex)
    {
        var node = RegexParser.Parse(regex);
        string printed = node.ToString();
        Assert.Equal(printed, RegexParser.Parse(printed).ToString());
        Assert.True(RegexEquivalence.AreEquivalent(regex, regex));
        // Different texts, so the automata are built and compared (no identical-text shortcut).
        Assert.True(RegexEquivalence.AreEquivalent(regex, "(" + regex + ")"));
        Assert.True(RegexEquivalence.AreEquivalent(regex, printed));
        // A language never equals its complement (the empty line is in exactly one of them).
        AssertDifferentWithValidWitness(regex, "~(" + regex + ")", RegexEquivalenceOptions.Default);
    }

    [Fact]
    public void AgreesWithDotNetRegexOnRandomLinesForPatternsWithoutIntersectionOrComplement()
    {
        // .NET regexes share the dialect's classes, '.', groups, '|', '*', '+' and '{n,}'; '\b' is dropped, which is
        // what the default WordBoundaryMode.EmptyString means. Singleline makes '.' match '\n' as here.
        const string letters = "dogtruckringAEae Zz09\nx";
        var random = new Random(1234);
        int checkedPatterns = 0, matched = 0;
        foreach (string pattern in DatasetSample)
        {
            if (pattern.Contains('&') || pattern.Contains('~')) continue;
            checkedPatterns++;
            var automaton = RegexAutomaton.Compile(pattern);
            var net = new NetRegex(@"\A(?:" + pattern.Replace("\\b", "") + @")\z", NetRegexOptions.Singleline | NetRegexOptions.CultureInvariant);
            for (int trial = 0; trial < 300; trial++)
            {
                var chars = new char[random.Next(0, 14)];
                for (int i = 0; i < chars.Length; i++) chars[i] = letters[random.Next(letters.Length)];
                // Plant the strings the corpus uses, so patterns with 'dog' or 'truck' match now and then.
                string line = new string(chars).Insert(random.Next(chars.Length + 1), random.Next(3) switch { 0 => "dog", 1 => "truck", _ => "" });
                bool expected = net.IsMatch(line);
                Assert.True(expected == automaton.IsMatch(line), $"{pattern} on \"{line}\": .NET says {expected}");
                if (expected) matched++;
            }
        }
        Assert.True(checkedPatterns >= 25);
        Assert.True(matched > 1000, $"only {matched} matching lines: the check is too weak");
    }

    [Fact]
    public void OversizedAutomataAreReportedNotBuilt()
    {
        // Intersections of "contains x" for many letters need 2^n states.
        string big = string.Join("&", "abcdefghijkl".Select(c => $"(.*{c}.*)"));
        var small = new RegexEquivalenceOptions(MaxStates: 500);
        var result = RegexEquivalence.Compare(big, "(" + big + ")", small);
        Assert.Equal(RegexVerdict.TooComplex, result.Verdict);
        Assert.Contains("more than 500 states", result.Reason);
        Assert.False(RegexEquivalence.TryAreEquivalent(big, "x", out string? reason, small));
        Assert.Contains("MaxStates", reason);
        Assert.Throws<RegexTooComplexException>(() => RegexEquivalence.AreEquivalent(big, "x", small));
        // Identical texts denote the same language without any automaton, as in the NL-RX scorer.
        Assert.True(RegexEquivalence.AreEquivalent(big, big, small));
    }

    [Fact]
    public void AutomataAreMinimalOverExactCharacterClasses()
    {
        // ".*dog.*" needs 4 states (progress through "dog"), and its alphabet is d, o, g, any other character.
        var a = RegexAutomaton.Compile(".*dog.*");
        Assert.Equal(4, a.StateCount);
        Assert.Equal(4, a.AlphabetSize);
        // [AEIOUaeiou], [a-z], [A-Z]: upper vowels, other upper, lower vowels, other lower, everything else.
        Assert.Equal(5, RegexAutomaton.Compile("([AEIOUaeiou])&([a-z])|[A-Z]").AlphabetSize);
        // The minimal DFA of "[0-9]" has start, accept and dead states.
        Assert.Equal(3, RegexAutomaton.Compile("[0-9]").StateCount);
    }

    [Theory]
    [InlineData("a\\.b\\*c")]
    [InlineData("~a*|b&c{2,}d?")]
    [InlineData("(a|b)&(c|d)")]
    [InlineData("~(ab)(cd)+")]
    [InlineData("[^a-z]|[\\]\\-]")]
    [InlineData("()*|\\b")]
    public void PrintingRoundTrips(string pattern)
    {
        var node = RegexParser.Parse(pattern);
        string printed = node.ToString();
        Assert.Equal(printed, RegexParser.Parse(printed).ToString());
        Assert.True(RegexEquivalence.AreEquivalent(pattern, printed));
    }

    private static void AssertDifferentWithValidWitness(string first, string second, RegexEquivalenceOptions options)
    {
        var result = RegexEquivalence.Compare(first, second, options);
        Assert.Equal(RegexVerdict.Different, result.Verdict);
        Assert.NotNull(result.Witness);
        Assert.Equal(result.WitnessMatchesFirst, RegexEquivalence.IsMatch(first, result.Witness, options));
        Assert.Equal(!result.WitnessMatchesFirst, RegexEquivalence.IsMatch(second, result.Witness, options));
    }
}
