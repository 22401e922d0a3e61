package io.lit4j.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.helidon.http.RequestException;
import io.lit4j.LitException;
import io.lit4j.data.Images;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Request bodies to checked values, every limit applied before the work it protects: the body is
 * read up to {@code maxBodyBytes} (413 past it), JSON is parsed strictly (400 when broken, 422 for
 * a missing field or a wrong type), lists and texts are counted and measured (413), and an image's
 * header is read for its size before a pixel is decoded (413 for too many pixels, 415 for a format
 * lit4j cannot read, 400 for a truncated or corrupt file).
 */
final class Requests {
    private final ServeOptions.Limits limits;

    Requests(ServeOptions.Limits limits) {
        this.limits = limits;
    }

    /**
     * The whole body, at most the limit; {@code readDeadlineNanos} (a System.nanoTime) cuts a client
     * that sends too slowly. Read straight into one array sized by the Content-Length (one byte
     * more, to see the end), else grown from 8 KiB by doubling up to the limit: no scratch buffer
     * per request (a 64 KiB one was zeroed for every 100-byte text and filled the young generation).
     */
    byte[] body(InputStream in, long contentLength, long readDeadlineNanos) {
        long max = limits.maxBodyBytes();
        if (contentLength > max) {
            throw tooLargeBody(contentLength);
        }
        long cap = Math.min(max, Integer.MAX_VALUE - 9) + 1; // one byte over the limit shows a body too large
        byte[] buf = new byte[(int) Math.min(contentLength >= 0 ? contentLength + 1 : 8192, cap)];
        int size = 0;
        try {
            for (int n; (n = in.read(buf, size, buf.length - size)) > 0; ) {
                size += n;
                if (size >= cap) {
                    throw tooLargeBody(size);
                }
                if (System.nanoTime() > readDeadlineNanos) {
                    throw ApiError.timeout("the request body did not arrive within " + limits.readTimeout().toMillis() + " ms");
                }
                if (size == buf.length) {
                    buf = Arrays.copyOf(buf, (int) Math.min(2L * buf.length, cap));
                }
            }
        } catch (RequestException e) { // Helidon's own cap (the backstop) or a broken chunked encoding
            throw e.status().code() == 413 ? tooLargeBody(max + 1) : ApiError.badRequest("the request body is malformed");
        } catch (ApiError e) {
            throw e;
        } catch (IOException | RuntimeException e) { // a bad chunk size, a connection closed mid-body
            throw ApiError.badRequest("the request body could not be read (" + e.getClass().getSimpleName() + ")");
        }
        return size == buf.length ? buf : Arrays.copyOf(buf, size);
    }

    private ApiError tooLargeBody(long size) {
        return ApiError.tooLarge("the body has " + (size > limits.maxBodyBytes() ? "more than " : "") + limits.maxBodyBytes()
                + " bytes, the most this server takes");
    }

    /** The body as one JSON object. */
    static JsonObject object(byte[] body) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw ApiError.badRequest("the body is not UTF-8");
        }
        JsonElement e;
        try {
            JsonReader r = new JsonReader(new StringReader(text));
            r.setStrictness(Strictness.STRICT);
            e = JsonParser.parseReader(r);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw ApiError.badRequest("the body has more after its JSON value");
            }
        } catch (JsonParseException | IOException | IllegalStateException ex) {
            String m = String.valueOf(ex.getMessage()).replaceFirst("^[\\w.]+Exception: ", "")
                    .replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON ", "");
            throw ApiError.badRequest("the body is not valid JSON: " + (m.length() > 160 ? m.substring(0, 160) + "..." : m));
        }
        if (!e.isJsonObject()) {
            throw ApiError.invalid("the body must be a JSON object, e.g. {\"texts\": [\"a cat\"]}");
        }
        return e.getAsJsonObject();
    }

    /** {@code field} as a list of strings (a single string counts as a list of one when {@code single}). */
    List<String> texts(JsonObject o, String field, boolean single, boolean required) {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) {
            if (required) {
                throw ApiError.invalid("'" + field + "' is missing: give a list of texts");
            }
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (single && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            out.add(e.getAsString());
        } else if (e.isJsonArray()) {
            JsonArray a = e.getAsJsonArray();
            if (a.size() > limits.maxTexts()) {
                throw ApiError.tooLarge("'" + field + "' has " + a.size() + " texts; the most per request is " + limits.maxTexts());
            }
            for (int i = 0; i < a.size(); i++) {
                out.add(string(a.get(i), field + "[" + i + "]"));
            }
        } else {
            throw ApiError.invalid("'" + field + "' must be " + (single ? "a string or " : "") + "a list of strings");
        }
        if (required && out.isEmpty()) {
            throw ApiError.invalid("'" + field + "' is empty: give at least one text");
        }
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).length() > limits.maxChars()) {
                throw ApiError.tooLarge(field + "[" + i + "] has " + out.get(i).length() + " characters; the most is " + limits.maxChars());
            }
        }
        return out;
    }

    static String string(JsonElement e, String where) {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw ApiError.invalid("'" + where + "' must be a string");
        }
        return e.getAsString();
    }

    /** An optional whole number in [min, max]. */
    static int integer(JsonObject o, String field, int dflt, int min, int max) {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) {
            return dflt;
        }
        if (!(e instanceof JsonPrimitive p) || !p.isNumber()) {
            throw ApiError.invalid("'" + field + "' must be a number");
        }
        double d = p.getAsDouble();
        if (d != Math.rint(d) || d < min || d > max) {
            throw ApiError.invalid("'" + field + "' is " + p + "; give a whole number from " + min + " to " + max);
        }
        return (int) d;
    }

    /** The base64 strings of {@code field} as image bytes. */
    List<byte[]> base64Images(JsonObject o, String field, boolean required) {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) {
            if (required) {
                throw ApiError.invalid("'" + field + "' is missing: give a list of base64-encoded image files");
            }
            return List.of();
        }
        if (!e.isJsonArray()) {
            throw ApiError.invalid("'" + field + "' must be a list of base64-encoded image files");
        }
        JsonArray a = e.getAsJsonArray();
        checkImageCount(a.size());
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            String s = string(a.get(i), field + "[" + i + "]");
            int comma = s.startsWith("data:") ? s.indexOf(',') : -1; // a data: URL is fine too
            try {
                out.add(Base64.getMimeDecoder().decode(s.substring(comma + 1)));
            } catch (IllegalArgumentException ex) {
                throw ApiError.badRequest(field + "[" + i + "] is not base64: " + ex.getMessage());
            }
        }
        if (required && out.isEmpty()) {
            throw ApiError.invalid("'" + field + "' is empty: give at least one image");
        }
        return out;
    }

    void checkImageCount(int n) {
        if (n > limits.maxImages()) {
            throw ApiError.tooLarge(n + " images; the most per request is " + limits.maxImages());
        }
    }

    /** Decodes one image file after checking its header's size against the pixel limit. */
    BufferedImage image(byte[] bytes, String name) {
        if (Images.sniff(bytes) == null) {
            throw ApiError.unsupported(name + " is not a PNG, JPEG, GIF, BMP or TIFF file");
        }
        try {
            Images.Header h = Images.probe(bytes, name);
            if ((long) h.width() * h.height() > limits.maxImagePixels()) {
                throw ApiError.tooLarge(name + " is " + h.width() + "x" + h.height() + " pixels; the most this server decodes is "
                        + limits.maxImagePixels() + " pixels");
            }
            return Images.decode(bytes, name);
        } catch (ApiError e) {
            throw e;
        } catch (LitException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    /** The file parts of a {@code multipart/form-data} body (RFC 7578), in order. */
    static List<byte[]> multipart(byte[] body, String contentType) {
        String boundary = null;
        for (String p : contentType.split(";")) {
            String t = p.strip();
            if (t.regionMatches(true, 0, "boundary=", 0, 9)) {
                boundary = t.substring(9).replaceAll("^\"|\"$", "");
            }
        }
        if (boundary == null || boundary.isEmpty() || boundary.length() > 70) {
            throw ApiError.badRequest("multipart/form-data without a valid boundary");
        }
        byte[] delim = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        List<byte[]> parts = new ArrayList<>();
        int at = indexOf(body, delim, 0);
        if (at < 0) {
            throw ApiError.badRequest("the multipart body has no part");
        }
        while (true) {
            int start = at + delim.length;
            if (start + 2 <= body.length && body[start] == '-' && body[start + 1] == '-') {
                return parts; // the closing delimiter
            }
            int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), start);
            int next = indexOf(body, ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1), start);
            if (headersEnd < 0 || next < 0 || headersEnd > next) {
                throw ApiError.badRequest("the multipart body is truncated or malformed");
            }
            String headers = new String(body, start, headersEnd - start, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
            if (headers.contains("filename=") || headers.contains("content-type: image/")) {
                byte[] part = new byte[next - (headersEnd + 4)];
                System.arraycopy(body, headersEnd + 4, part, 0, part.length);
                parts.add(part);
            }
            at = next + 2;
        }
    }

    private static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = Math.max(0, from); i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
