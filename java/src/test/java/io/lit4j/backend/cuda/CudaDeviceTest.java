package io.lit4j.backend.cuda;

import io.lit4j.LitException;
import io.lit4j.backend.Epilogue;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.lit4j.Assertions2.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What only a GPU can show (skipped, naming why, without one): transfers are exact, device memory
 * does not grow over 1,000 calls, a failing library call names the call and the op, and an
 * out-of-vocabulary token id is caught on the device.
 */
class CudaDeviceTest {
    static CudaBackend cuda;

    @BeforeAll
    static void gpu() {
        String why = CudaBackend.unavailableReason();
        assumeTrue(why == null, "cuda backend unavailable: " + why);
        cuda = new CudaBackend(0, 1);
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            cuda.close();
        }
    }

    @Test
    void transfersAreExactInEveryDtype() {
        Random rnd = new Random(1);
        float[] v = random(rnd, 4099, 3f);
        try (TensorArena a = cuda.newArena()) {
            Tensor f = a.allocate(DType.F32, 4099);
            cuda.upload(v, f);
            assertArrayEquals(v, cuda.download(f));
            Tensor i = a.allocate(DType.I32, 5);
            cuda.upload(new int[] {0, -1, 7, Integer.MAX_VALUE, 3}, i);
            assertArrayEquals(new float[] {0, -1, 7, Integer.MAX_VALUE, 3}, cuda.download(i));
            Tensor b = a.allocate(DType.BF16, 4099);
            cuda.copy(f, b);
            float[] back = cuda.download(b);
            for (int k = 0; k < v.length; k++) {
                assertEquals(v[k], back[k], Math.abs(v[k]) * 0x1p-8, "bf16 round trip of " + v[k]);
            }
        }
    }

    @Test
    void deviceMemoryDoesNotGrowOverAThousandCalls() {
        Random rnd = new Random(2);
        try (TensorArena a = cuda.newArena()) {
            Tensor x = a.allocate(DType.F32, 16, 768), w = a.allocate(DType.F32, 768, 768), y = a.allocate(DType.F32, 16, 768);
            cuda.upload(random(rnd, 16 * 768, 1f), x);
            cuda.upload(random(rnd, 768 * 768, 1f), w);
            cuda.linear(x, w, null, y, Epilogue.GELU_ERF);
            cuda.download(y);
            long before = cuda.deviceBytesInUse();
            for (int i = 0; i < 1000; i++) {
                cuda.linear(x, w, null, y, Epilogue.GELU_ERF);
            }
            cuda.download(y);
            assertEquals(before, cuda.deviceBytesInUse(), "pool bytes in use after 1,000 linears");
        }
    }

    @Test
    void anImpossibleAllocationNamesTheCallAndTheSize() {
        try (TensorArena a = cuda.newArena()) {
            CudaException e = assertThrows(CudaException.class, () -> a.allocate(DType.F32, 1 << 30, 1 << 10));
            assertTrue(e.getMessage().startsWith("cuMemAllocAsync(4398046511104 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY"), e.getMessage());
        }
    }

    @Test
    void aTokenIdOutsideTheVocabularyIsCaught() {
        try (TensorArena a = cuda.newArena()) {
            Tensor ids = a.allocate(DType.I32, 2, 3), table = a.allocate(DType.F32, 10, 4), out = a.allocate(DType.F32, 2, 3, 4);
            cuda.upload(new int[] {1, 2, 3, 4, 10, 5}, ids);
            LitException e = assertThrows(LitException.class, () -> cuda.embedding(ids, table, out));
            assertEquals("embedding: token id 10 at position 4 is outside the vocabulary [0, 10)", e.getMessage());
        }
    }
}
