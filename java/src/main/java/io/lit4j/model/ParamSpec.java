package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.tensor.Shapes;

/** A parameter a model expects: its name and shape (at most {@link TwoTowerConfig#MAX_PARAM_VALUES} values). */
public record ParamSpec(String name, int[] shape) {
    public ParamSpec {
        shape = shape.clone();
        if (Shapes.numel(shape) > TwoTowerConfig.MAX_PARAM_VALUES) {
            throw new LitException("parameter '" + name + "' " + Shapes.str(shape) + " would hold " + Shapes.numel(shape)
                    + " values, more than lit4j's limit of " + TwoTowerConfig.MAX_PARAM_VALUES + " - check the config's sizes");
        }
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
