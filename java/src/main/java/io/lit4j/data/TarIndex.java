package io.lit4j.data;

import io.lit4j.LitException;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.tar.TarFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The members of an uncompressed tar file: Apache Commons Compress ({@link TarFile}) parses the
 * headers (ustar, GNU long names and base-256 sizes, pax); this class keeps the regular files under
 * safe names, resolves hard links and symbolic links to other members, and skips directories,
 * devices and sparse files. Member bytes are then read in place with positional reads, so several
 * threads may read at once.
 */
final class TarIndex {
    /** Where a member's bytes are. */
    record Member(long offset, long size) {
    }

    private static final int BLOCK = 512;

    private TarIndex() {
    }

    /** Member name (normalised: no leading {@code ./} or {@code /}) to its data. Later members win. */
    static Map<String, Member> scan(Path file) {
        Map<String, Member> members = new LinkedHashMap<>();
        Map<String, String> hardLinks = new LinkedHashMap<>();
        Map<String, String> symLinks = new LinkedHashMap<>();
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (IOException e) {
            throw new LitException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (fileSize > 0 && fileSize < BLOCK) {
            throw new LitException(file + ": truncated tar (" + fileSize + " bytes, less than one " + BLOCK + "-byte header)");
        }
        try (TarFile tar = new TarFile(file)) {
            for (TarArchiveEntry e : tar.getEntries()) {
                add(e, file, fileSize, members, hardLinks, symLinks);
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof LitException le) {
                throw le;
            }
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new LitException(file + ": not a tar file, or a corrupt or truncated one (" + why
                    + "); expected an uncompressed .tar", e);
        }
        hardLinks.forEach((name, target) -> {
            Member m = members.get(target);
            if (m != null) {
                members.putIfAbsent(name, m);
            }
        });
        for (int hop = 0; hop < 8 && !symLinks.isEmpty(); hop++) {
            symLinks.entrySet().removeIf(e -> {
                Member m = members.get(e.getValue());
                if (m != null) {
                    members.putIfAbsent(e.getKey(), m);
                    return true;
                }
                return false;
            });
        }
        return members;
    }

    private static void add(TarArchiveEntry e, Path file, long fileSize, Map<String, Member> members,
                            Map<String, String> hardLinks, Map<String, String> symLinks) {
        long header = e.getDataOffset() - BLOCK;
        if (!e.isCheckSumOK()) {
            throw new LitException(file + ": not a tar file or corrupt header at byte " + header
                    + " (checksum does not match)");
        }
        String norm = normalise(e.getName());
        if (norm == null || e.isDirectory() || e.isSparse()) {
            return;
        }
        if (e.isLink()) {
            String target = normalise(e.getLinkName());
            if (target != null) {
                hardLinks.put(norm, target);
            }
        } else if (e.isSymbolicLink()) {
            String target = resolveRelative(norm, e.getLinkName());
            if (target != null) {
                symLinks.put(norm, target);
            }
        } else if (isRegular(e.getLinkFlag())) {
            if (e.getSize() < 0 || e.getDataOffset() + e.getSize() > fileSize) {
                throw new LitException(file + ": truncated tar: member '" + norm + "' at byte " + header
                        + " declares " + e.getSize() + " bytes but the file ends at " + fileSize);
            }
            members.put(norm, new Member(e.getDataOffset(), e.getSize()));
            hardLinks.remove(norm);
            symLinks.remove(norm);
        }
    }

    /** A regular file: type {@code 0}, the old NUL type, or contiguous ({@code 7}); not a device, fifo or vendor type. */
    private static boolean isRegular(byte type) {
        return type == TarConstants.LF_NORMAL || type == TarConstants.LF_OLDNORM || type == TarConstants.LF_CONTIG;
    }

    /** Reads a member's bytes; thread-safe (positional reads). */
    static byte[] read(FileChannel ch, Member m, Path file, String name) throws IOException {
        if (m.size() > Integer.MAX_VALUE - 16) {
            throw new LitException(file + "!" + name + ": member too large (" + m.size() + " bytes)");
        }
        byte[] out = new byte[(int) m.size()];
        ByteBuffer b = ByteBuffer.wrap(out);
        long p = m.offset();
        while (b.hasRemaining()) {
            int n = ch.read(b, p);
            if (n < 0) {
                throw new LitException(file + "!" + name + ": truncated tar member");
            }
            p += n;
        }
        return out;
    }

    /**
     * Archive-relative name: backslashes kept, leading {@code /} and {@code ./} dropped, empty and
     * {@code .} segments removed; null for a folder entry, an empty name or one with {@code ..}.
     */
    static String normalise(String name) {
        if (name == null || name.isEmpty() || name.endsWith("/")) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (String seg : name.split("/")) {
            if (seg.isEmpty() || seg.equals(".")) {
                continue;
            }
            if (seg.equals("..")) {
                return null;
            }
            if (!sb.isEmpty()) {
                sb.append('/');
            }
            sb.append(seg);
        }
        return sb.isEmpty() ? null : sb.toString();
    }

    /** A symlink target relative to the link's folder, resolved inside the archive, or null if it leaves it. */
    static String resolveRelative(String linkName, String target) {
        if (target == null || target.isEmpty()) {
            return null;
        }
        if (target.startsWith("/")) {
            return normalise(target);
        }
        int slash = linkName.lastIndexOf('/');
        String dir = slash < 0 ? "" : linkName.substring(0, slash);
        ArrayDeque<String> parts = new ArrayDeque<>();
        if (!dir.isEmpty()) {
            for (String s : dir.split("/")) {
                parts.addLast(s);
            }
        }
        for (String s : target.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (parts.isEmpty()) {
                    return null;
                }
                parts.removeLast();
            } else {
                parts.addLast(s);
            }
        }
        return parts.isEmpty() ? null : String.join("/", parts);
    }
}
