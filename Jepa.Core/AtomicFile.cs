using System.Text;

namespace Jepa.Core;

/// <summary>
/// Writes files so that a reader (or a process killed midway) sees either the old file or the whole new one: the bytes go
/// to a temporary file <c>.NAME.ID.tmp</c> beside the target, are flushed to disk, and the temporary file is then renamed
/// over the target. A failed write deletes its temporary file; one left by a killed process matches <c>.*.tmp</c>, which
/// run-folder cleanup removes.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes the bytes <paramref name="write"/> produces to <paramref name="path"/>, atomically.</summary>
    public static void Write(string path, Action<FileStream> write, int bufferSize = 4096)
    {
        string full = Path.GetFullPath(path);
        string tmp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            try { if (File.Exists(tmp)) File.Delete(tmp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark to <paramref name="path"/>, atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
            writer.Write(text);
        });
}
