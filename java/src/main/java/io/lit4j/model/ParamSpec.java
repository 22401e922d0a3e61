package io.lit4j.model;

import io.lit4j.tensor.Shapes;

/** A parameter a model expects: its name and shape. */
public record ParamSpec(String name, int[] shape) {
    public ParamSpec {
        shape = shape.clone();
    }

    public long numel() {
        return Shapes.numel(shape);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return name + Shapes.str(shape);
    }
}
