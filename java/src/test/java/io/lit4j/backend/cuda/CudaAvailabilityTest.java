package io.lit4j.backend.cuda;

import io.lit4j.LitException;
import io.lit4j.backend.Backends;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What lit4j says about the GPU on the machine the tests run on: with no GPU (CI, the machines
 * this backend was written on) {@code --backend cuda} fails in one line naming why and
 * {@code auto} says why it did not take the GPU; with one, the cuda backend opens. Runs
 * everywhere; each branch asserts what that machine must show.
 */
class CudaAvailabilityTest {

    static boolean nvccFindable() {
        String nvcc = System.getenv("NVCC");
        if (nvcc != null && Files.isExecutable(Path.of(nvcc))) {
            return true;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return true;
            }
        }
        String home = System.getenv("CUDA_HOME");
        return home != null && Files.isExecutable(Path.of(home, "bin", "nvcc"));
    }

    @Test
    void theBuildCarriesTheKernelsWhenNvccIsThere() {
        // under Maven the same machine builds and tests, so nvcc here means the jar's fatbin was made; the
        // device check runs a bundle built elsewhere, where nvcc may be missing and the kernels present
        if (nvccFindable()) {
            assertTrue(CudaModule.inThisBuild(), "nvcc is on this machine but the build carries no kernels");
        }
        if (!CudaModule.inThisBuild()) {
            assertEquals("no kernels in this build (nvcc was not found when lit4j was built)", CudaBackend.unavailableReason());
        }
    }

    @Test
    void askingForCudaSaysWhyNotInOneLineOrOpensIt() {
        String why = CudaBackend.unavailableReason();
        if (why != null) {
            LitException e = assertThrows(LitException.class, () -> Backends.open("cuda", 1));
            assertEquals("the cuda backend cannot run here: " + why, e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            try (Backends.Choice auto = Backends.open("auto", 1)) {
                assertNotEquals("cuda", auto.backend().name());
                assertTrue(auto.reason().endsWith("not the GPU: " + why), auto.reason());
            }
        } else {
            try (Backends.Choice c = Backends.open("cuda", 1)) {
                assertEquals("cuda", c.backend().name());
                assertTrue(c.backend().describe().get(0).startsWith("cuda backend: "), c.backend().describe().toString());
            }
        }
    }

    @Test
    void withoutADriverTheReasonNamesIt() {
        boolean driver = CudaLibraries.ofThisProcess().find(CudaLibraries.Lib.DRIVER).isPresent();
        String why = CudaBackend.unavailableReason();
        if (!driver && CudaModule.inThisBuild()) {
            assertTrue(why != null && why.startsWith("no libcuda.so.1"), why);
        }
        if (driver) {
            assertFalse(why != null && why.startsWith("no libcuda.so.1"), why);
        }
    }

    @Test
    void aHostTensorIsRefusedByNameBeforeAnyDeviceCall() {
        try (ScalarBackend s = new ScalarBackend(); TensorArena a = s.newArena()) {
            Tensor t = a.allocate(DType.F32, 3, 17);
            LitException e = assertThrows(LitException.class, () -> DeviceOps.ptr(t));
            assertEquals("tensor F32[3, 17] lives on host; the cuda backend can only use its own tensors (upload it first)", e.getMessage());
        }
    }
}
