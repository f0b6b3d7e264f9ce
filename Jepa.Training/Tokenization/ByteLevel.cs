using System.Text;
using System.Text.RegularExpressions;

namespace Jepa.Training.Tokenization;

/// <summary>
/// GPT-2 byte-level helpers: the reversible byte→printable-character map (<c>bytes_to_unicode</c>)
/// and the GPT-2 pre-tokenization regex that splits text into words before BPE.
/// </summary>
public static partial class ByteLevel
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    /// <summary>The GPT-2 pre-tokenizer pattern (contractions, letters, digits, other symbols, whitespace).</summary>
    public const string Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Pattern)]
    private static partial Regex Gpt2Regex();

    /// <summary>The printable character GPT-2 uses for byte <paramref name="b"/>.</summary>
    public static char Char(byte b) => ByteToChar[b];

    /// <summary>Splits <paramref name="text"/> into GPT-2 pre-tokens (their concatenation is the text).</summary>
    public static IEnumerable<string> PreTokenize(string text)
    {
        foreach (Match m in Gpt2Regex().Matches(text)) yield return m.Value;
    }

    /// <summary>The byte-level string of a piece of text: its UTF-8 bytes, each mapped by <see cref="Char"/>.</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var sb = new StringBuilder(bytes.Length);
        foreach (byte b in bytes) sb.Append(ByteToChar[b]);
        return sb.ToString();
    }

    /// <summary>Appends the bytes of a byte-level token string to <paramref name="bytes"/>; false if a character is not a byte-level one.</summary>
    public static bool TryAppendBytes(string token, List<byte> bytes)
    {
        foreach (char c in token)
        {
            if (!CharToByte.TryGetValue(c, out byte b)) return false;
            bytes.Add(b);
        }
        return true;
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var printable = new bool[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++)
            map[b] = printable[b] ? (char)b : (char)(256 + n++);
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var d = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) d[ByteToChar[b]] = (byte)b;
        return d;
    }
}
