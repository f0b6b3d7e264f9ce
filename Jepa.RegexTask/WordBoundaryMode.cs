namespace Jepa.RegexTask;

/// <summary>What <c>\b</c> denotes when an NL-RX expression is compiled to an automaton.</summary>
/// <remarks>
/// NL-RX writes "words with X" as <c>\bX\b</c>, sometimes under a repetition or next to <c>.*</c>
/// (<c>(\b[A-Za-z]\b)*</c>, <c>.*\b[A-Z].*dog.*\b.*</c>). Its Perl meaning, a zero-width assertion about
/// the characters on either side, cannot be given to the dialect in general: under <c>~</c> and <c>&amp;</c>
/// the language of a sub-expression would depend on characters outside it, so there is no automaton for
/// <c>~(\b.*\b)</c> that agrees with any regex engine. The corpus' scorer (<c>regex_dfa_equals.jar</c> in the
/// NL-RX repository) compares automata of dk.brics.automaton, the library whose notation the dialect is;
/// that library's parser reads <c>\b</c> as an escaped literal <c>b</c>, and the published scripts do not
/// show whether the jar rewrites it first. Both modes below are plain regular languages, so either way
/// equivalence is exact, symmetric and transitive, and equal texts are always equivalent.
/// </remarks>
public enum WordBoundaryMode
{
    /// <summary>
    /// <c>\b</c> matches the empty string (the default): <c>\bX\b</c> accepts exactly what <c>X</c> accepts,
    /// and an expression is equivalent to itself with its <c>\b</c> removed. It reads "words with X" as X
    /// and drops what a Perl engine would add on a whole line (that the characters next to each boundary
    /// differ in being word characters), so expressions that differ only in their <c>\b</c> compare equal.
    /// </summary>
    EmptyString,

    /// <summary>
    /// <c>\b</c> is the literal character <c>b</c>, as the dk.brics.automaton parser reads it; use this to
    /// reproduce a scorer that passed the corpus' expressions to that library unchanged.
    /// </summary>
    LiteralB,
}
