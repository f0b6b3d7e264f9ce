namespace Jepa.RegexTask;

/// <summary>
/// The automaton of an expression grew past <see cref="RegexEquivalenceOptions.MaxStates"/> states.
/// Complement and intersection can make automata grow exponentially (more with nesting), so every
/// construction is capped rather than left to exhaust memory.
/// </summary>
public sealed class RegexTooComplexException : Exception
{
    /// <summary>An error with the given message.</summary>
    public RegexTooComplexException(string message) : base(message) { }

    internal static RegexTooComplexException StateCap(int maxStates) =>
        new($"The automaton needs more than {maxStates} states (RegexEquivalenceOptions.MaxStates); " +
            "raise the cap or simplify the expression.");
}
