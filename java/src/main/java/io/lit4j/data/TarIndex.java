package io.lit4j.data;

import io.lit4j.LitException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The members of an uncompressed tar file, found by one scan of the 512-byte headers: ustar
 * (with its {@code prefix} field), GNU long names ({@code ././@LongLink}, type {@code L}) and
 * base-256 sizes, and pax extended headers ({@code path=}, {@code size=}). Hard links and
 * symbolic links to other members are resolved; directories, devices and sparse files are skipped.
 */
final class TarIndex {
    /** Where a member's bytes are. */
    record Member(long offset, long size) {
    }

    private static final int BLOCK = 512;
    private static final int MAX_META = 1 << 20;

    private TarIndex() {
    }

    /** Member name (normalised: no leading {@code ./} or {@code /}) to its data. Later members win. */
    static Map<String, Member> scan(FileChannel ch, Path file) throws IOException {
        long fileSize = ch.size();
        Map<String, Member> members = new LinkedHashMap<>();
        Map<String, String> hardLinks = new LinkedHashMap<>();
        Map<String, String> symLinks = new LinkedHashMap<>();
        ByteBuffer hb = ByteBuffer.allocate(BLOCK);
        byte[] h = hb.array();
        long pos = 0;
        String longName = null;
        String paxPath = null;
        Long paxSize = null;
        String longLink = null;
        String paxLink = null;
        while (true) {
            if (pos + BLOCK > fileSize) {
                if (pos == fileSize && pos > 0) {
                    break; // no end-of-archive blocks: tolerated, as GNU tar does
                }
                throw new LitException(file + ": truncated tar (header at byte " + pos + " runs past the end, "
                        + fileSize + " bytes)");
            }
            readFully(ch, hb, pos, file);
            if (allZero(h)) {
                break; // end of archive (one zero block is enough)
            }
            checkChecksum(h, pos, file);
            char type = (char) (h[156] & 0xFF);
            long size = paxSize != null ? paxSize : parseNumber(h, 124, 12, pos, file);
            if (size < 0) {
                throw new LitException(file + ": corrupt tar header at byte " + pos + " (size " + size + ")");
            }
            long data = pos + BLOCK;
            long next = data + (size + BLOCK - 1) / BLOCK * BLOCK;
            if (type != '1' && type != '2' && type != '5' && data + size > fileSize) {
                throw new LitException(file + ": truncated tar: member at byte " + pos + " declares " + size
                        + " bytes but the file ends at " + fileSize);
            }
            switch (type) {
                case 'L' -> longName = cString(readMeta(ch, data, size, pos, file));
                case 'K' -> longLink = cString(readMeta(ch, data, size, pos, file));
                case 'x' -> {
                    Map<String, String> pax = parsePax(readMeta(ch, data, size, pos, file), pos, file);
                    if (pax.containsKey("path")) {
                        paxPath = pax.get("path");
                    }
                    if (pax.containsKey("linkpath")) {
                        paxLink = pax.get("linkpath");
                    }
                    if (pax.containsKey("size")) {
                        try {
                            paxSize = Long.parseLong(pax.get("size").trim());
                        } catch (NumberFormatException e) {
                            throw new LitException(file + ": corrupt pax header at byte " + pos + " (size="
                                    + pax.get("size") + ")");
                        }
                    }
                }
                case 'g' -> {
                    // pax global header: nothing in it changes where member data lies
                }
                default -> {
                    String name = paxPath != null ? paxPath : longName != null ? longName : ustarName(h);
                    String link = paxLink != null ? paxLink : longLink != null ? longLink : cString(h, 157, 100);
                    String norm = normalise(name);
                    if (norm != null) {
                        switch (type) {
                            case '0', '\0', '7' -> {
                                members.put(norm, new Member(data, size));
                                hardLinks.remove(norm);
                                symLinks.remove(norm);
                            }
                            case '1' -> {
                                String target = normalise(link);
                                if (target != null) {
                                    hardLinks.put(norm, target);
                                }
                            }
                            case '2' -> {
                                String target = resolveRelative(norm, link);
                                if (target != null) {
                                    symLinks.put(norm, target);
                                }
                            }
                            default -> {
                                // directory, device, fifo, sparse, vendor types: not image data
                            }
                        }
                    }
                    longName = null;
                    paxPath = null;
                    paxSize = null;
                    longLink = null;
                    paxLink = null;
                }
            }
            pos = next;
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

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        b.clear();
        long p = pos;
        while (b.hasRemaining()) {
            int n = ch.read(b, p);
            if (n < 0) {
                throw new LitException(file + ": truncated tar at byte " + p);
            }
            p += n;
        }
    }

    /** Reads {@code size} bytes at {@code pos}; thread-safe (positional reads). */
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

    private static byte[] readMeta(FileChannel ch, long data, long size, long pos, Path file) throws IOException {
        if (size > MAX_META) {
            throw new LitException(file + ": tar metadata entry at byte " + pos + " is " + size
                    + " bytes (more than " + MAX_META + ") - corrupt?");
        }
        return read(ch, new Member(data, size), file, "metadata at byte " + pos);
    }

    private static boolean allZero(byte[] h) {
        for (byte b : h) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static void checkChecksum(byte[] h, long pos, Path file) {
        long stored = parseNumber(h, 148, 8, pos, file);
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int v = (i >= 148 && i < 156) ? ' ' : h[i];
            unsigned += v & 0xFF;
            signed += (i >= 148 && i < 156) ? ' ' : h[i];
        }
        if (stored != unsigned && stored != signed) {
            throw new LitException(file + ": not a tar file or corrupt header at byte " + pos
                    + " (checksum " + stored + " != " + unsigned + ")");
        }
    }

    /** Octal (space/NUL padded) or GNU base-256 (high bit of the first byte set). */
    static long parseNumber(byte[] h, int off, int len, long pos, Path file) {
        if ((h[off] & 0x80) != 0) {
            if ((h[off] & 0x40) != 0) {
                throw new LitException(file + ": corrupt tar header at byte " + pos + " (negative base-256 number)");
            }
            long v = h[off] & 0x3F;
            for (int i = 1; i < len; i++) {
                if ((v >>> 55) != 0) {
                    throw new LitException(file + ": corrupt tar header at byte " + pos + " (number too large)");
                }
                v = (v << 8) | (h[off + i] & 0xFF);
            }
            return v;
        }
        long v = 0;
        int i = off;
        int end = off + len;
        while (i < end && (h[i] == ' ' || h[i] == 0)) {
            i++;
        }
        boolean any = false;
        for (; i < end; i++) {
            int c = h[i];
            if (c == ' ' || c == 0) {
                break;
            }
            if (c < '0' || c > '7') {
                throw new LitException(file + ": not a tar file or corrupt header at byte " + pos
                        + " (bad octal digit 0x" + Integer.toHexString(c & 0xFF) + " at field offset " + (i - off) + ")");
            }
            v = (v << 3) | (c - '0');
            any = true;
        }
        return any ? v : 0;
    }

    private static String ustarName(byte[] h) {
        String name = cString(h, 0, 100);
        // POSIX ustar ("ustar\0") has a prefix field; old GNU ("ustar  \0") uses that area for other data
        boolean posix = h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r' && h[262] == 0;
        if (posix) {
            String prefix = cString(h, 345, 155);
            if (!prefix.isEmpty()) {
                return prefix + "/" + name;
            }
        }
        return name;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static String cString(byte[] b) {
        return cString(b, 0, b.length);
    }

    /** Pax records: {@code "<len> <key>=<value>\n"}, len counting the whole record in bytes. */
    static Map<String, String> parsePax(byte[] b, long pos, Path file) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        while (i < b.length) {
            if (b[i] == 0) {
                break;
            }
            int sp = i;
            int len = 0;
            while (sp < b.length && b[sp] >= '0' && b[sp] <= '9' && len < 100_000_000) {
                len = len * 10 + (b[sp] - '0');
                sp++;
            }
            if (sp >= b.length || b[sp] != ' ' || len <= sp - i || i + len > b.length || b[i + len - 1] != '\n') {
                throw new LitException(file + ": corrupt pax header at byte " + pos + " (record at offset " + i + ")");
            }
            String rec = new String(b, sp + 1, i + len - 1 - (sp + 1), StandardCharsets.UTF_8);
            int eq = rec.indexOf('=');
            if (eq <= 0) {
                throw new LitException(file + ": corrupt pax header at byte " + pos + " (record '" + rec + "')");
            }
            out.put(rec.substring(0, eq), rec.substring(eq + 1));
            i += len;
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
