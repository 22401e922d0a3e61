package io.lit4j.model;

import io.lit4j.tensor.Tensor;

/**
 * Sees intermediate tensors of a forward pass ("block.0", "encoded", "pooled", ...), for
 * golden-file tests and debugging. The tensor is only valid during the call.
 */
@FunctionalInterface
public interface ForwardObserver {
    ForwardObserver NONE = (name, t) -> { };

    void onTensor(String name, Tensor t);
}
