package io.lit4j.serve;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Requests#body} without a server: bodies of every size come back whole, with or without a
 * Content-Length and however the stream chunks them; over the limit is 413, a stream that breaks is
 * 400, a body still arriving after its deadline 408.
 */
class RequestBodyTest {
    static final Requests REQUESTS = new Requests(ServeOptions.Limits.defaults().withMaxBodyBytes(100_000));
    static final long LATER = System.nanoTime() + 60_000_000_000L;

    /** A stream that hands out at most {@code chunk} bytes a read, then optionally fails. */
    static InputStream chunked(byte[] data, int chunk, boolean failAtEnd) {
        return new InputStream() {
            int at;

            @Override
            public int read() {
                throw new AssertionError("single-byte reads are not expected");
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (at == data.length) {
                    if (failAtEnd) {
                        throw new IOException("connection reset");
                    }
                    return -1;
                }
                int n = Math.min(Math.min(len, chunk), data.length - at);
                System.arraycopy(data, at, b, off, n);
                at += n;
                return n;
            }
        };
    }

    @Test
    void bodiesComeBackWholeWithOrWithoutALength() {
        Random r = new Random(1);
        for (int size : new int[] {0, 1, 100, 8191, 8192, 8193, 65_537, 100_000}) {
            byte[] data = new byte[size];
            r.nextBytes(data);
            for (int chunk : new int[] {1, 7, 4096, 1 << 20}) {
                if (chunk == 1 && size > 10_000) {
                    continue;
                }
                String what = size + " bytes in reads of " + chunk;
                assertArrayEquals(data, REQUESTS.body(chunked(data, chunk, false), size, LATER), what + ", with its length");
                assertArrayEquals(data, REQUESTS.body(chunked(data, chunk, false), -1, LATER), what + ", chunked");
            }
        }
    }

    @Test
    void overTheLimitIs413AndABrokenStream400AndALateOne408() {
        byte[] big = new byte[100_001];
        assertEquals(413, assertThrows(ApiError.class, () -> REQUESTS.body(new ByteArrayInputStream(big), big.length, LATER)).status());
        assertEquals(413, assertThrows(ApiError.class, () -> REQUESTS.body(chunked(big, 5000, false), -1, LATER)).status());
        assertEquals(413, assertThrows(ApiError.class, () -> REQUESTS.body(chunked(big, 5000, false), 10, LATER)).status(),
                "a body longer than its Content-Length");
        ApiError broken = assertThrows(ApiError.class, () -> REQUESTS.body(chunked(new byte[300], 100, true), 300, LATER));
        assertEquals(400, broken.status());
        assertTrue(broken.getMessage().contains("IOException"), broken.getMessage());
        assertEquals(408, assertThrows(ApiError.class, () -> REQUESTS.body(chunked(new byte[300], 100, false), 300, System.nanoTime() - 1))
                .status());
    }
}
